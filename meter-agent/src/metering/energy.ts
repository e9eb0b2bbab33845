/** A power value at a wall-clock time: what the trapezoid rule integrates. */
export interface PowerPoint {
  tMs: number;
  powerUW: number;
}

/**
 * Energy of one stretch, split by direction. Units: half-nanojoules (µW × ms = nJ; the trapezoid's /2 is
 * folded into the unit so every value is a whole number and nothing is rounded away).
 */
export interface EnergyParts {
  /** Energy that flowed the metered way (positive power). */
  deliveredHalfNJ: bigint;
  /** Energy that flowed back (negative power), as a positive number. */
  returnedHalfNJ: bigint;
}

export const NO_ENERGY: EnergyParts = { deliveredHalfNJ: 0n, returnedHalfNJ: 0n };

export function addParts(a: EnergyParts, b: EnergyParts): EnergyParts {
  return {
    deliveredHalfNJ: a.deliveredHalfNJ + b.deliveredHalfNJ,
    returnedHalfNJ: a.returnedHalfNJ + b.returnedHalfNJ,
  };
}

/**
 * Trapezoid of power moving linearly from `pa` to `pb` (µW) over `dtMs`, in half-nJ: (pa + pb) × dt.
 * Where the sign changes the line crosses zero at dt·pa/(pa − pb); the smaller side is floored and the
 * larger derived from the net, so delivered − returned is always exactly (pa + pb) × dt.
 */
export function trapezoidHalfNJ(pa: bigint, pb: bigint, dtMs: bigint): EnergyParts {
  const net = (pa + pb) * dtMs;
  if (pa >= 0n && pb >= 0n) return { deliveredHalfNJ: net, returnedHalfNJ: 0n };
  if (pa <= 0n && pb <= 0n) return { deliveredHalfNJ: 0n, returnedHalfNJ: -net };
  const p = pa > pb ? pa : pb;
  const n = pa > pb ? pb : pa;
  if (p >= -n) {
    const returnedHalfNJ = (n * n * dtMs) / (p - n);
    return { deliveredHalfNJ: returnedHalfNJ + net, returnedHalfNJ };
  }
  const deliveredHalfNJ = (p * p * dtMs) / (p - n);
  return { deliveredHalfNJ, returnedHalfNJ: deliveredHalfNJ - net };
}

/** Energy of the segment a→b. */
export function segmentHalfNJ(a: PowerPoint, b: PowerPoint): EnergyParts {
  return trapezoidHalfNJ(BigInt(a.powerUW), BigInt(b.powerUW), BigInt(b.tMs - a.tMs));
}

/**
 * Splits segment a→b at wall-clock times `cutsMs` (strictly between a and b, ascending) into
 * cuts + 1 pieces whose sum is exactly the whole segment. The part before a cut is computed with the
 * powers scaled by dt (so the interpolated power at the cut is an integer), then floored.
 */
export function splitSegment(a: PowerPoint, b: PowerPoint, cutsMs: readonly number[]): EnergyParts[] {
  const total = segmentHalfNJ(a, b);
  const dt = BigInt(b.tMs - a.tMs);
  const pa = BigInt(a.powerUW);
  const pb = BigInt(b.powerUW);
  const pieces: EnergyParts[] = [];
  let before = NO_ENERGY;
  for (const cut of cutsMs) {
    const x = BigInt(cut - a.tMs);
    const scaled = trapezoidHalfNJ(pa * dt, pa * dt + (pb - pa) * x, x);
    const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);
    const upTo: EnergyParts = {
      deliveredHalfNJ: clamp(scaled.deliveredHalfNJ / dt, before.deliveredHalfNJ, total.deliveredHalfNJ),
      returnedHalfNJ: clamp(scaled.returnedHalfNJ / dt, before.returnedHalfNJ, total.returnedHalfNJ),
    };
    pieces.push({
      deliveredHalfNJ: upTo.deliveredHalfNJ - before.deliveredHalfNJ,
      returnedHalfNJ: upTo.returnedHalfNJ - before.returnedHalfNJ,
    });
    before = upTo;
  }
  pieces.push({
    deliveredHalfNJ: total.deliveredHalfNJ - before.deliveredHalfNJ,
    returnedHalfNJ: total.returnedHalfNJ - before.returnedHalfNJ,
  });
  return pieces;
}
