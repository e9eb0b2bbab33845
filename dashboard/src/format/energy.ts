import { groupDigits, parseUnits } from './amount';

const MWS_PER_WH = 3_600_000n;

/** Rounds num/den to the nearest whole (half away from zero). */
function roundDiv(num: bigint, den: bigint): bigint {
  const negative = num < 0n !== den < 0n;
  const n = num < 0n ? -num : num;
  const d = den < 0n ? -den : den;
  const q = (n + d / 2n) / d;
  return negative ? -q : q;
}

/** x / 1000 with three decimals: 12345 → "12.345". */
function milli(value: bigint): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  return `${negative ? '-' : ''}${groupDigits(abs / 1000n)}.${(abs % 1000n).toString().padStart(3, '0')}`;
}

/**
 * Energy from milliwatt-seconds (integer string): Wh below 1 kWh, kWh above, three decimals,
 * computed in bigint. A non-zero amount that rounds to zero says so instead of showing "0.000".
 */
export function formatEnergyMWs(energyMWs: string | bigint | undefined | null): string {
  const mWs = parseUnits(energyMWs);
  if (mWs === undefined) return '—';
  const mWh = roundDiv(mWs * 1000n, MWS_PER_WH);
  const abs = mWh < 0n ? -mWh : mWh;
  if (abs >= 1_000_000n) return `${milli(roundDiv(mWh, 1000n))} kWh`;
  if (mWh === 0n && mWs !== 0n) return mWs > 0n ? '< 0.001 Wh' : '> -0.001 Wh';
  return `${milli(mWh)} Wh`;
}

/** Power from microwatts (a reading, not money: a number is fine). */
export function formatPowerUW(powerUW: number | null | undefined): string {
  if (powerUW === null || powerUW === undefined || !Number.isFinite(powerUW)) return '—';
  const watts = powerUW / 1e6;
  const abs = Math.abs(watts);
  if (abs >= 1000) return `${(watts / 1000).toFixed(3)} kW`;
  if (abs >= 1) return `${watts.toFixed(3)} W`;
  return `${(watts * 1000).toFixed(1)} mW`;
}

/** Millivolts and microamps for a sensor line. */
export function formatVoltageMV(mV: number): string {
  return `${(mV / 1000).toFixed(3)} V`;
}

export function formatCurrentUA(uA: number): string {
  return Math.abs(uA) >= 1000 ? `${(uA / 1000).toFixed(1)} mA` : `${uA} µA`;
}
