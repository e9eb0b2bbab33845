import type { PaymentMetadata } from '../api/wallet';
import { formatDateTime, formatTime } from '../format/time';

/** The period a payment is for, from its metadata; nothing when it names none. */
export function PeriodTimes({ metadata }: { metadata: PaymentMetadata | undefined }) {
  if (!metadata?.periodStart || !metadata.periodEnd) return null;
  return (
    <span className="muted block" title={`${metadata.periodStart} – ${metadata.periodEnd}`}>
      {formatDateTime(Date.parse(metadata.periodStart))} – {formatTime(Date.parse(metadata.periodEnd))}
    </span>
  );
}

/** Marks a payment sent with a storage deposit; `title` says which way the deposit goes. */
export function MicroNote({ micro, title }: { micro: boolean | undefined; title: string }) {
  return micro ? (
    <span className="muted block" title={title}>
      micro-payment
    </span>
  ) : null;
}

/** " (latest 20 of 57)" when the list shows only the newest part of the total. */
export function latestOf(shown: number, total: number | undefined): string {
  return total !== undefined && total > shown ? ` (latest ${shown} of ${total})` : '';
}
