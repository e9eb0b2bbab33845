import type { PaymentMetadata } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatEnergyMWs } from '../format/energy';
import { formatDateTime, formatTime } from '../format/time';
import { Amount } from './Amount';
import type { Column } from './DataTable';

/** The period a payment is for, from its metadata; nothing when it names none. */
export function PeriodTimes({ metadata }: { metadata: PaymentMetadata | undefined }) {
  if (!metadata?.periodStart || !metadata.periodEnd) return null;
  return (
    <span className="muted block" title={`${metadata.periodStart} – ${metadata.periodEnd}`}>
      {formatDateTime(Date.parse(metadata.periodStart))} – {formatTime(Date.parse(metadata.periodEnd))}
    </span>
  );
}

/** A payment's amount, marked when it went with a storage deposit; `micro` says which way the deposit goes. */
export function PaymentAmount({
  units,
  token,
  micro,
}: {
  units: string;
  token: TokenInfo | undefined;
  micro: string | false | undefined;
}) {
  return (
    <>
      <Amount units={units} {...(token ? { token } : {})} />
      {micro && (
        <span className="muted block" title={micro}>
          micro-payment
        </span>
      )}
    </>
  );
}

/** The Energy column: what the payment's metadata names, right-aligned. */
export function energyColumn<
  T extends { metadata?: Pick<PaymentMetadata, 'energyMWs'> | undefined },
>(): Column<T> {
  return {
    header: 'Energy',
    attrs: { className: 'num' },
    cell: (p) => formatEnergyMWs(p.metadata?.energyMWs),
  };
}

/** The Amount column: the payment's units, and `microNote` on those that went with a storage deposit. */
export function amountColumn<T extends { micro?: boolean | undefined }>(
  token: TokenInfo | undefined,
  unitsOf: (p: T) => string,
  microNote: string,
): Column<T> {
  return {
    header: 'Amount',
    attrs: { className: 'num' },
    cell: (p) => <PaymentAmount units={unitsOf(p)} token={token} micro={p.micro && microNote} />,
  };
}

/** " (latest 20 of 57)" when the list shows only the newest part of the total. */
export function latestOf(shown: number, total: number | undefined): string {
  return total !== undefined && total > shown ? ` (latest ${shown} of ${total})` : '';
}
