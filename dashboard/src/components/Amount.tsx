import { formatAmount, type TokenInfo } from '../format/amount';

/** Whole tokens, with the exact base units beside them. */
export function Amount({
  units,
  token,
  inline,
}: {
  units: string | undefined;
  token?: TokenInfo;
  inline?: boolean;
}) {
  const a = formatAmount(units, token);
  if (a.tokens === '—') return <span>—</span>;
  return (
    <span className="amount">
      <span className="amount-tokens">{a.tokens}</span>
      {inline ? ' ' : <br />}
      <span className="amount-units">({a.units})</span>
    </span>
  );
}
