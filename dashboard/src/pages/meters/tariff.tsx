import type { AgentSnapshot, MeterRegistersView, TariffNow } from '../../api/meter';
import { Amount } from '../../components/Amount';
import { DataTable } from '../../components/DataTable';
import { Term } from '../../components/Term';
import { parseUnits, type TokenInfo } from '../../format/amount';
import { formatEnergyMWs } from '../../format/energy';
import { formatDateTime, formatTime, isoTime } from '../../format/time';

type Payee = 'producer' | 'operator' | 'grid';
const PAYEES: { payee: Payee; name: string }[] = [
  { payee: 'producer', name: 'Producer (energy)' },
  { payee: 'operator', name: 'Operator fee' },
  { payee: 'grid', name: 'Grid fee' },
];

/** The agent's unit of energy: 1 mW·s = 2,000,000 half-nJ. */
const HALF_NJ_PER_MWS = 2_000_000n;

/**
 * This period's cost under the tariff if it closed now, per payee in exact base units (priced by the agent
 * as the close prices it), with the band in force now and the energy per band so far.
 */
export function TariffSoFar({
  period,
  token,
  label,
}: {
  period: AgentSnapshot['period'];
  token: TokenInfo | undefined;
  label: string;
}) {
  const soFar = period.tariffSoFar;
  if (!soFar && !period.tariffNow) return null;
  return (
    <section className="tariff-so-far" aria-label={`Tariff so far of ${label}`}>
      <h4>Tariff so far</h4>
      {period.tariffNow && <BandNow now={period.tariffNow} />}
      {soFar && <CostByPayee soFar={soFar} token={token} label={label} />}
    </section>
  );
}

function CostByPayee({
  soFar,
  token,
  label,
}: {
  soFar: Record<Payee, string>;
  token: TokenInfo | undefined;
  label: string;
}) {
  // Added in bigint; a part that is not whole units leaves the total unknown rather than wrong.
  const parts = PAYEES.map((p) => parseUnits(soFar[p.payee]));
  const total = parts.every((u) => u !== undefined) ? parts.reduce((sum, u) => sum + u, 0n) : undefined;
  const rows = [
    ...PAYEES.map((p) => ({ ...p, units: soFar[p.payee] })),
    { payee: 'total', name: 'Total', units: total?.toString() },
  ];
  return (
    <DataTable
      caption={`This period’s cost so far by payee, ${label}`}
      rows={rows}
      rowKey={(r) => r.payee}
      rowAttrs={(r) => ({ 'data-payee': r.payee })}
      columns={[
        { header: 'Payee', cell: (r) => r.name },
        {
          header: 'So far',
          attrs: { className: 'num' },
          cell: (r) => <Amount units={r.units} {...(token ? { token } : {})} inline />,
        },
      ]}
    />
  );
}

function BandNow({ now }: { now: TariffNow }) {
  const bands = Object.entries(now.bandsMWs).sort(([a], [b]) => Number(a) - Number(b));
  return (
    <dl className="kv">
      <Term name="Band now" data-testid="tariff-band">
        {now.bandName} (1.8.{now.band}) until{' '}
        <time dateTime={isoTime(now.untilMs)}>{formatTime(now.untilMs)}</time>
      </Term>
      <Term name="Tariff">
        {now.id} v{now.version}
      </Term>
      {bands.length > 0 && (
        <Term name="Energy per band">
          {bands.map(([digit, mws], i) => (
            <span key={digit}>
              {i > 0 && ', '}
              band {digit}: {formatEnergyMWs(mws)}
            </span>
          ))}
        </Term>
      )}
    </dl>
  );
}

interface BandRegisters {
  digit: number;
  importHalfNJ?: string;
  exportHalfNJ?: string;
}

/** The registers by band digit (0 the total, listed last): import 1-0:1.8.x beside export 1-0:2.8.x. */
export function registersByBand(values: MeterRegistersView['values']): BandRegisters[] {
  const bands = new Map<number, BandRegisters>();
  for (const { obis, halfNJ } of values) {
    const m = /^1-0:([12])\.8\.(\d)$/.exec(obis);
    if (!m) continue;
    const digit = Number(m[2]);
    const band = bands.get(digit) ?? { digit };
    if (m[1] === '1') band.importHalfNJ = halfNJ;
    else band.exportHalfNJ = halfNJ;
    bands.set(digit, band);
  }
  const order = (d: number) => (d === 0 ? 10 : d);
  return [...bands.values()].sort((a, b) => order(a.digit) - order(b.digit));
}

function Register({ halfNJ, obis }: { halfNJ: string | undefined; obis: string }) {
  if (halfNJ === undefined || parseUnits(halfNJ) === undefined) return <span className="muted">—</span>;
  return (
    <span title={`${obis}: ${halfNJ} half-nJ`}>{formatEnergyMWs(BigInt(halfNJ) / HALF_NJ_PER_MWS)}</span>
  );
}

/** The meter's cumulative OBIS registers after its last closed period, import and export per band. */
export function Registers({ registers, label }: { registers: MeterRegistersView; label: string }) {
  return (
    <>
      <h3>
        Registers{' '}
        <span className="muted">
          at <time dateTime={isoTime(registers.atMs)}>{formatDateTime(registers.atMs)}</time>
        </span>
      </h3>
      <DataTable
        caption={`OBIS registers of ${label}, per tariff band`}
        rows={registersByBand(registers.values)}
        rowKey={(r) => r.digit}
        columns={[
          { header: 'Band', cell: (r) => (r.digit === 0 ? 'Total (0)' : `Band ${r.digit}`) },
          {
            header: 'Import (1-0:1.8.x)',
            attrs: { className: 'num' },
            cell: (r) => <Register halfNJ={r.importHalfNJ} obis={`1-0:1.8.${r.digit}`} />,
          },
          {
            header: 'Export (1-0:2.8.x)',
            attrs: { className: 'num' },
            cell: (r) => <Register halfNJ={r.exportHalfNJ} obis={`1-0:2.8.${r.digit}`} />,
          },
        ]}
      />
      {registers.events.length > 0 && (
        <ul aria-label={`Register events of ${label}`}>
          {registers.events.map((e) => (
            <li key={`${e.atMs}-${e.toMeterId}`}>
              {formatDateTime(e.atMs)}: meter replaced, {e.fromMeterId} → {e.toMeterId}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
