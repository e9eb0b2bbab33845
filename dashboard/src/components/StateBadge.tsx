import type { PaymentState } from '../api/wallet';

/** Each state has its own symbol and word, so color is never the only signal. */
const symbols: Record<string, string> = {
  queued: '○',
  submitted: '◔',
  included: '●',
  conflicting: '✕',
  failed: '!',
  accepted: '✓',
  rejected: '✕',
  due: '○',
  'nothing-due': '–',
  'not-paying': '–',
  pending: '○',
  referenced: '●',
  unspent: '●',
  spent: '–',
  open: '○',
  filled: '●',
  cancelled: '–',
  expired: '–',
  unclaimed: '○',
  claimed: '●',
  returned: '↩',
};

export function StateBadge({ state }: { state: PaymentState | string }) {
  return (
    <span className={`badge badge-${state}`}>
      <span aria-hidden="true">{symbols[state] ?? '•'} </span>
      {state}
    </span>
  );
}
