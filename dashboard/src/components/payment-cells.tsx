import type { PaymentMetadata } from '../api/wallet';
import type { TokenInfo } from '../format/amount';
import { formatDateTime, formatTime } from '../format/time';
import { Amount } from './Amount';

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

/** " (latest 20 of 57)" when the list shows only the newest part of the total. */
export function latestOf(shown: number, total: number | undefined): string {
  return total !== undefined && total > shown ? ` (latest ${shown} of ${total})` : '';
}
