import type {
  AckView,
  AmendRequest,
  BuyRequest,
  MarketBook,
  MarketKind,
  OrderView,
  Rejection,
  SellRequest,
  Side,
  Trade,
} from '../../api/market';
import { DEFAULT_TOKEN, formatDecimal, groupDigits, type TokenInfo } from '../../format/amount';

/**
 * The market page's arithmetic and checks, free of React: energy entered in Wh or kWh becomes whole Wh,
 * prices stay exact decimals (the wire's canonical form), and money is bigint. No float touches any of them.
 */

/** market/src/units.ts: 1 GWh, and the network's whole supply per Wh. */
export const MAX_ENERGY_WH = 1_000_000_000;
export const MAX_PRICE_UNITS_PER_WH = 1_000_000_000_000_000n;
export const PRICE_FRACTION_DIGITS = 18;

export type EnergyUnit = 'Wh' | 'kWh';
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/** "1.5" kWh → 1500 Wh; "1500" Wh → 1500. Whole Wh, 1 … 10^9; the message names the field. */
export function parseEnergy(text: string, unit: EnergyUnit, label = 'Energy'): Parsed<number> {
  const t = text.trim();
  if (t === '') return { ok: false, error: `${label}: enter an amount in ${unit}.` };
  if (/[,\s]/.test(t))
    return { ok: false, error: `${label}: digits only, with a dot for decimals (no thousands separators).` };
  const m = DECIMAL.exec(t);
  if (!m)
    return { ok: false, error: `${label}: a number of ${unit}, such as ${unit === 'Wh' ? '1500' : '1.5'}.` };
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const places = unit === 'kWh' ? 3 : 0;
  if (fraction.length > places)
    return {
      ok: false,
      error:
        unit === 'kWh'
          ? `${label}: ${t} kWh is not a whole number of Wh (at most 3 decimals in kWh).`
          : `${label}: whole Wh only (or choose kWh).`,
    };
  const wh = BigInt(m[1]!) * 10n ** BigInt(places) + BigInt(fraction.padEnd(places, '0') || '0');
  if (wh < 1n) return { ok: false, error: `${label}: at least 1 Wh.` };
  if (wh > BigInt(MAX_ENERGY_WH)) return { ok: false, error: `${label}: at most 1,000,000,000 Wh (1 GWh).` };
  return { ok: true, value: Number(wh) };
}

/** A price in base units per Wh, in the canonical form messages carry: "250", "0.5" (never "0.50", "007"). */
export function parsePrice(text: string, label = 'Price'): Parsed<string> {
  const t = text.trim();
  if (t === '') return { ok: false, error: `${label}: enter a price in base units per Wh.` };
  const m = DECIMAL.exec(t);
  if (!m) return { ok: false, error: `${label}: a decimal number of base units per Wh, such as 250 or 0.5.` };
  const whole = m[1]!.replace(/^0+(?=\d)/, '');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > PRICE_FRACTION_DIGITS)
    return { ok: false, error: `${label}: at most 18 decimal places.` };
  if (
    BigInt(whole) * 10n ** 18n + BigInt(fraction.padEnd(18, '0') || '0') >
    MAX_PRICE_UNITS_PER_WH * 10n ** 18n
  )
    return { ok: false, error: `${label}: at most 1,000,000,000,000,000 base units per Wh.` };
  return { ok: true, value: fraction ? `${whole}.${fraction}` : whole };
}

/** A price as an integer scaled by 10^18 (market/src/units.ts parsePrice), for exact comparison. */
export function scaledPrice(price: string): bigint {
  const m = DECIMAL.exec(price);
  if (!m) return -1n;
  return BigInt(m[1]!) * 10n ** 18n + BigInt((m[2] ?? '').slice(0, 18).padEnd(18, '0'));
}

/** units/Wh → tokens/kWh, six decimals: "0.25 TWT/kWh"; "≈" when the six decimals round it. */
export function pricePerKWh(unitsPerWh: string, token: TokenInfo = DEFAULT_TOKEN): string {
  const m = DECIMAL.exec(unitsPerWh);
  if (!m) return '—';
  const fraction = m[2] ?? '';
  // units/Wh × 1000 = units/kWh; ÷ 10^decimals = tokens/kWh.
  const d = { digits: BigInt(`${m[1]}${fraction}`) * 1000n, scale: fraction.length + token.decimals };
  const shown = formatDecimal(d, 6);
  const exact = formatDecimal(d, 40) === shown;
  return `${exact ? '' : '≈ '}${shown} ${token.ticker}/kWh`;
}

/** What `energyWh` at `price` comes to, in base units: floor(energy × price), as the market computes it. */
export function valueUnits(energyWh: number, price: string): bigint | undefined {
  const m = DECIMAL.exec(price);
  if (!m || !Number.isSafeInteger(energyWh)) return undefined;
  const fraction = m[2] ?? '';
  return (BigInt(energyWh) * BigInt(`${m[1]}${fraction}`)) / 10n ** BigInt(fraction.length);
}

/** 1500 → "1,500 Wh". */
export function formatWh(wh: number): string {
  return Number.isSafeInteger(wh) ? `${groupDigits(BigInt(wh))} Wh` : '—';
}

/** 1500 → "1.5 kWh", exactly. */
export function formatKWh(wh: number): string {
  if (!Number.isSafeInteger(wh)) return '—';
  return `${formatDecimal({ digits: BigInt(wh), scale: 3 }, 3)} kWh`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The value a datetime-local input shows for a time, in the viewer's zone, to the minute. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (the viewer's zone) to ms since the epoch; undefined when it is not a real time. */
export function fromLocalInput(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, ms] = m.slice(1).map((x) => Number(x ?? 0)) as number[];
  const date = new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!);
  // new Date rolls 31 April into May: refuse what does not come back as typed.
  if (date.getFullYear() !== y || date.getMonth() !== mo! - 1 || date.getDate() !== d) return undefined;
  return date.getTime();
}

export interface OrderFormValues {
  energy: string;
  unit: EnergyUnit;
  price: string;
  start: string;
  end: string;
  /** Sells only; empty means no minimum (1 Wh). In the energy's unit. */
  minLot: string;
}

export type OrderField = 'energy' | 'price' | 'start' | 'end' | 'minLot';
export type FieldErrors = Partial<Record<OrderField | 'form', string>>;

export const priceLabel = (side: Side) => (side === 'sell' ? 'Price' : 'Highest price');

/** Form defaults: an hour from now (this minute). */
export function defaultOrderValues(nowMs: number): OrderFormValues {
  const start = Math.floor(nowMs / 60_000) * 60_000;
  return {
    energy: '',
    unit: 'Wh',
    price: '',
    start: toLocalInput(start),
    end: toLocalInput(start + 3_600_000),
    minLot: '',
  };
}

function checkWindow(values: OrderFormValues, nowMs: number, errors: FieldErrors) {
  const startMs = fromLocalInput(values.start);
  const endMs = fromLocalInput(values.end);
  if (startMs === undefined) errors.start = 'Window start: pick a date and time.';
  if (endMs === undefined) errors.end = 'Window end: pick a date and time.';
  else if (startMs !== undefined && endMs <= startMs) errors.end = 'Window end: must be after the start.';
  else if (endMs <= nowMs)
    errors.end = 'Window end: must be in the future, or the offer has expired before it reaches the book.';
  return startMs !== undefined && endMs !== undefined ? { startMs, endMs } : undefined;
}

export type Checked<T, F extends string = OrderField> =
  | { ok: true; request: T }
  | { ok: false; errors: Partial<Record<F | 'form', string>> };

/** The fields both sides have: energy, price and window, each error recorded under its field. */
function checkOrder(values: OrderFormValues, nowMs: number, side: Side, errors: FieldErrors) {
  const energy = parseEnergy(values.energy, values.unit);
  if (!energy.ok) errors.energy = energy.error;
  const price = parsePrice(values.price, priceLabel(side));
  if (!price.ok) errors.price = price.error;
  return { energy, price, window: checkWindow(values, nowMs, errors) };
}

export function checkSell(values: OrderFormValues, nowMs: number): Checked<SellRequest> {
  const errors: FieldErrors = {};
  const { energy, price, window } = checkOrder(values, nowMs, 'sell', errors);
  let minLotWh = 1;
  if (values.minLot.trim() !== '') {
    const lot = parseEnergy(values.minLot, values.unit, 'Minimum lot');
    if (!lot.ok) errors.minLot = lot.error;
    else if (energy.ok && lot.value > energy.value)
      errors.minLot = 'Minimum lot: must not exceed the energy offered.';
    else minLotWh = lot.value;
  }
  if (!energy.ok || !price.ok || !window || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request: { energyWh: energy.value, priceUnitsPerWh: price.value, window, minLotWh } };
}

export function checkBuy(values: OrderFormValues, nowMs: number): Checked<BuyRequest> {
  const errors: FieldErrors = {};
  const { energy, price, window } = checkOrder(values, nowMs, 'buy', errors);
  if (!energy.ok || !price.ok || !window || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, request: { energyWh: energy.value, maxPriceUnitsPerWh: price.value, window } };
}

export type AmendField = 'energy' | 'price';

/** New total energy (Wh) and/or price of an order; only what changed is sent. */
export function checkAmend(
  order: Pick<OrderView, 'id' | 'energyWh' | 'priceUnitsPerWh'>,
  values: { energy: string; price: string },
): Checked<AmendRequest, AmendField> {
  const errors: Partial<Record<AmendField | 'form', string>> = {};
  const energy = parseEnergy(values.energy, 'Wh', 'New total energy');
  if (!energy.ok) errors.energy = energy.error;
  const price = parsePrice(values.price, 'New price');
  if (!price.ok) errors.price = price.error;
  if (!energy.ok || !price.ok) return { ok: false, errors };
  const request: AmendRequest = { orderId: order.id };
  if (energy.value !== order.energyWh) request.energyWh = energy.value;
  if (scaledPrice(price.value) !== scaledPrice(order.priceUnitsPerWh)) request.priceUnitsPerWh = price.value;
  if (request.energyWh === undefined && request.priceUnitsPerWh === undefined)
    return { ok: false, errors: { form: 'Change the energy or the price to amend the order.' } };
  return { ok: true, request };
}

/** Which input a wallet-service 400 names (its `field`, e.g. "body.energyWh"); undefined: the whole form. */
export function fieldOf(serverField: string | undefined, message = ''): OrderField | undefined {
  const f = (serverField ?? '').replace(/^body\.?/, '');
  if (f === 'energyWh') return 'energy';
  if (f === 'priceUnitsPerWh' || f === 'maxPriceUnitsPerWh') return 'price';
  if (f === 'window.startMs') return 'start';
  if (f === 'window.endMs' || f === 'window') return 'end';
  if (f === 'minLotWh' || (f === '' && /minLotWh/.test(message))) return 'minLot';
  return undefined;
}

/** The open orders of one side in the order they would match: cheapest sell / highest buy first. */
export function bookSide(orders: readonly OrderView[], side: Side, withClosed = false): OrderView[] {
  const open = orders
    .filter((o) => o.side === side && o.status === 'open')
    .sort((a, b) => {
      const pa = scaledPrice(a.priceUnitsPerWh);
      const pb = scaledPrice(b.priceUnitsPerWh);
      const byPrice = side === 'sell' ? pa - pb : pb - pa;
      return byPrice !== 0n ? (byPrice < 0n ? -1 : 1) : a.placedAtMs - b.placedAtMs;
    });
  if (!withClosed) return open;
  const closed = orders
    .filter((o) => o.side === side && o.status !== 'open')
    .sort((a, b) => (b.closedAtMs ?? b.placedAtMs) - (a.closedAtMs ?? a.placedAtMs));
  return [...open, ...closed];
}

/** The household's own orders, newest first. */
export function ownOrders(orders: readonly OrderView[], me: string | undefined): OrderView[] {
  if (!me) return [];
  return orders.filter((o) => o.owner === me).sort((a, b) => b.placedAtMs - a.placedAtMs);
}

/** Which side of a trade the household is on (seller first, as the book resolves acks). */
export function partyOf(trade: Trade, me: string | undefined): 'seller' | 'buyer' | undefined {
  if (!me) return undefined;
  if (trade.seller === me) return 'seller';
  if (trade.buyer === me) return 'buyer';
  return undefined;
}

export function acksOf(trade: Trade, acks: readonly AckView[]): { seller: boolean; buyer: boolean } {
  const mine = acks.filter((a) => a.tradeId === trade.id);
  return { seller: mine.some((a) => a.party === 'seller'), buyer: mine.some((a) => a.party === 'buyer') };
}

/** A message this page posted: what it was for, and where it went. */
export interface PostRecord {
  kind: MarketKind;
  messageId: string;
  blockId: string;
  /** The order or trade it acts on (cancel, amend, ack). */
  target?: string;
  atMs: number;
}

export type PostOutcome =
  | { state: 'waiting' }
  | { state: 'pending' }
  | { state: 'accepted' }
  | { state: 'rejected'; rejection: Rejection };

/** What became of a posted message in the book: not there yet, waiting for the book's clock, taken, or left out. */
export function outcomeOf(book: MarketBook | undefined, messageId: string): PostOutcome {
  if (!book) return { state: 'waiting' };
  const rejection = book.rejections.find((r) => r.messageId === messageId);
  if (rejection) return { state: 'rejected', rejection };
  if (book.accepted.includes(messageId)) return { state: 'accepted' };
  if (book.pending.includes(messageId)) return { state: 'pending' };
  return { state: 'waiting' };
}
