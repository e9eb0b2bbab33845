import { describe, expect, it } from 'vitest';
import type { OrderView } from '../../api/market';
import {
  bookSide,
  checkAmend,
  checkBuy,
  checkSell,
  defaultOrderValues,
  fieldOf,
  formatKWh,
  formatWh,
  fromLocalInput,
  type OrderFormValues,
  outcomeOf,
  parseEnergy,
  parsePrice,
  pricePerKWh,
  scaledPrice,
  toLocalInput,
  valueUnits,
} from './model';

const NOW = new Date(2026, 4, 1, 12, 0, 30).getTime();
const form = (over: Partial<OrderFormValues> = {}): OrderFormValues => ({
  ...defaultOrderValues(NOW),
  energy: '1500',
  price: '250',
  ...over,
});

describe('energy entry', () => {
  it('turns Wh and kWh into whole Wh exactly', () => {
    expect(parseEnergy('1500', 'Wh')).toEqual({ ok: true, value: 1500 });
    expect(parseEnergy('1.5', 'kWh')).toEqual({ ok: true, value: 1500 });
    expect(parseEnergy('0.001', 'kWh')).toEqual({ ok: true, value: 1 });
    expect(parseEnergy('2.50000', 'kWh')).toEqual({ ok: true, value: 2500 });
    // 0.1 + 0.2 style floats never enter: 1.001 kWh is exactly 1001 Wh.
    expect(parseEnergy('1.001', 'kWh')).toEqual({ ok: true, value: 1001 });
    expect(parseEnergy('1000000', 'kWh')).toEqual({ ok: true, value: 1_000_000_000 });
    expect(parseEnergy(' 42 ', 'Wh')).toEqual({ ok: true, value: 42 });
  });

  it('names the field and says what is wrong', () => {
    const error = (text: string, unit: 'Wh' | 'kWh', label?: string) => {
      const r = parseEnergy(text, unit, label);
      return r.ok ? undefined : r.error;
    };
    expect(error('', 'Wh')).toBe('Energy: enter an amount in Wh.');
    expect(error('1.5', 'Wh')).toBe('Energy: whole Wh only (or choose kWh).');
    expect(error('1.0005', 'kWh')).toBe(
      'Energy: 1.0005 kWh is not a whole number of Wh (at most 3 decimals in kWh).',
    );
    expect(error('0', 'Wh')).toBe('Energy: at least 1 Wh.');
    expect(error('0.0004', 'kWh')).toMatch(/not a whole number of Wh/);
    expect(error('1000001', 'kWh')).toBe('Energy: at most 1,000,000,000 Wh (1 GWh).');
    expect(error('1,500', 'Wh')).toMatch(/no thousands separators/);
    expect(error('-5', 'Wh')).toBe('Energy: a number of Wh, such as 1500.');
    expect(error('1e3', 'kWh')).toBe('Energy: a number of kWh, such as 1.5.');
    expect(error('x', 'Wh', 'Minimum lot')).toMatch(/^Minimum lot: /);
  });
});

describe('prices', () => {
  it('puts prices in the canonical form messages carry', () => {
    expect(parsePrice('250')).toEqual({ ok: true, value: '250' });
    expect(parsePrice('0.50')).toEqual({ ok: true, value: '0.5' });
    expect(parsePrice('007.2500')).toEqual({ ok: true, value: '7.25' });
    expect(parsePrice('12.000')).toEqual({ ok: true, value: '12' });
    expect(parsePrice('0')).toEqual({ ok: true, value: '0' });
    expect(parsePrice('0.000000000000000001')).toEqual({ ok: true, value: '0.000000000000000001' });
    expect(parsePrice('1000000000000000')).toEqual({ ok: true, value: '1000000000000000' });
  });

  it('refuses what the market would not take', () => {
    const error = (t: string) => {
      const r = parsePrice(t, 'Highest price');
      return r.ok ? undefined : r.error;
    };
    expect(error('')).toBe('Highest price: enter a price in base units per Wh.');
    expect(error('0.0000000000000000001')).toBe('Highest price: at most 18 decimal places.');
    expect(error('1000000000000000.1')).toBe(
      'Highest price: at most 1,000,000,000,000,000 base units per Wh.',
    );
    expect(error('.5')).toMatch(/such as 250 or 0.5/);
    expect(error('-1')).toMatch(/such as 250 or 0.5/);
  });

  it('shows a price per kWh in tokens, six decimals, exactly', () => {
    const twt = { decimals: 6, ticker: 'TWT' };
    expect(pricePerKWh('250', twt)).toBe('0.25 TWT/kWh');
    expect(pricePerKWh('10000', twt)).toBe('10 TWT/kWh');
    expect(pricePerKWh('0.001', twt)).toBe('0.000001 TWT/kWh');
    expect(pricePerKWh('0.0004', twt)).toBe('≈ 0 TWT/kWh');
    expect(pricePerKWh('0.0015', twt)).toBe('≈ 0.000002 TWT/kWh');
    expect(pricePerKWh('123456789012.5', twt)).toBe('123,456,789.0125 TWT/kWh');
  });

  it('compares and multiplies without floats', () => {
    expect(scaledPrice('0.1') + scaledPrice('0.2')).toBe(scaledPrice('0.3'));
    expect(valueUnits(4000, '10000')).toBe(40_000_000n);
    expect(valueUnits(3, '0.5')).toBe(1n); // floor, as the market does
    expect(valueUnits(1_000_000_000, '1000000000000000')).toBe(10n ** 24n);
    expect(valueUnits(7, '0.333333333333333333')).toBe(2n);
  });

  it('formats Wh', () => {
    expect(formatWh(4000)).toBe('4,000 Wh');
    expect(formatKWh(1500)).toBe('1.5 kWh');
    expect(formatKWh(1)).toBe('0.001 kWh');
  });
});

describe('the window inputs', () => {
  it('round-trips local time to the minute', () => {
    const ms = new Date(2026, 0, 2, 3, 4).getTime();
    expect(toLocalInput(ms)).toBe('2026-01-02T03:04');
    expect(fromLocalInput('2026-01-02T03:04')).toBe(ms);
    expect(fromLocalInput('2026-01-02T03:04:05')).toBe(ms + 5000);
    expect(fromLocalInput('2026-04-31T10:00')).toBeUndefined();
    expect(fromLocalInput('')).toBeUndefined();
  });

  it('defaults to this minute, for an hour', () => {
    const v = defaultOrderValues(NOW);
    expect(fromLocalInput(v.start)).toBe(new Date(2026, 4, 1, 12, 0).getTime());
    expect(fromLocalInput(v.end)).toBe(new Date(2026, 4, 1, 13, 0).getTime());
  });
});

describe('order checks', () => {
  it('builds the sell request the wallet-service takes', () => {
    expect(checkSell(form({ energy: '2.5', unit: 'kWh', price: '0.250', minLot: '0.1' }), NOW)).toEqual({
      ok: true,
      request: {
        energyWh: 2500,
        priceUnitsPerWh: '0.25',
        window: {
          startMs: new Date(2026, 4, 1, 12, 0).getTime(),
          endMs: new Date(2026, 4, 1, 13, 0).getTime(),
        },
        minLotWh: 100,
      },
    });
    // No minimum lot: 1 Wh.
    const plain = checkSell(form(), NOW);
    expect(plain.ok && plain.request.minLotWh).toBe(1);
  });

  it('builds the buy request with its highest price', () => {
    const r = checkBuy(form({ price: '300' }), NOW);
    expect(r.ok && r.request).toMatchObject({ energyWh: 1500, maxPriceUnitsPerWh: '300' });
  });

  it('reports every field at fault, by name', () => {
    const r = checkSell(
      form({ energy: '', price: 'abc', start: '2026-05-01T12:00', end: '2026-05-01T11:00', minLot: '5' }),
      NOW,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.energy).toMatch(/^Energy: /);
    expect(r.errors.price).toMatch(/^Price: /);
    expect(r.errors.end).toBe('Window end: must be after the start.');
    expect(r.errors.start).toBeUndefined();
    const lot = checkSell(form({ energy: '10', minLot: '11' }), NOW);
    expect(!lot.ok && lot.errors.minLot).toBe('Minimum lot: must not exceed the energy offered.');
    const past = checkBuy(form({ start: '2026-05-01T10:00', end: '2026-05-01T11:00' }), NOW);
    expect(!past.ok && past.errors.end).toMatch(/^Window end: must be in the future/);
    const noStart = checkBuy(form({ start: '' }), NOW);
    expect(!noStart.ok && noStart.errors.start).toBe('Window start: pick a date and time.');
    expect(!noStart.ok && noStart.errors.price).toBeUndefined();
  });

  it('sends only what an amendment changes', () => {
    const order = { id: 'a'.repeat(64), energyWh: 1000, priceUnitsPerWh: '250' };
    expect(checkAmend(order, { energy: '1000', price: '300' })).toEqual({
      ok: true,
      request: { orderId: order.id, priceUnitsPerWh: '300' },
    });
    expect(checkAmend(order, { energy: '600', price: '250.0' })).toEqual({
      ok: true,
      request: { orderId: order.id, energyWh: 600 },
    });
    const same = checkAmend(order, { energy: '1000', price: '250' });
    expect(!same.ok && same.errors.form).toMatch(/Change the energy or the price/);
    const bad = checkAmend(order, { energy: '1.5', price: '' });
    expect(!bad.ok && bad.errors).toMatchObject({
      energy: expect.stringMatching(/^New total energy: /),
      price: expect.stringMatching(/^New price: /),
    });
  });

  it('maps the wallet-service 400 field to the input', () => {
    expect(fieldOf('body.energyWh')).toBe('energy');
    expect(fieldOf('body.maxPriceUnitsPerWh')).toBe('price');
    expect(fieldOf('body.priceUnitsPerWh')).toBe('price');
    expect(fieldOf('body.window.startMs')).toBe('start');
    expect(fieldOf('body.window')).toBe('end');
    expect(fieldOf('body', 'body: minLotWh must not exceed energyWh')).toBe('minLot');
    expect(fieldOf('timestampMs')).toBeUndefined();
    expect(fieldOf(undefined)).toBeUndefined();
  });
});

describe('the book', () => {
  const order = (id: string, side: 'sell' | 'buy', price: string, placedAtMs: number, status = 'open') =>
    ({
      id,
      side,
      owner: 'watt1x',
      ownerKey: 'k',
      window: { startMs: 0, endMs: 1 },
      energyWh: 10,
      filledWh: 0,
      remainingWh: status === 'open' ? 10 : 0,
      priceUnitsPerWh: price,
      minLotWh: 1,
      status,
      placedAtMs,
    }) as OrderView;

  it('orders sells cheapest first and buys highest first, then by time', () => {
    const orders = [
      order('s1', 'sell', '10', 3),
      order('s2', 'sell', '9.5', 5),
      order('s3', 'sell', '10', 1),
      order('s4', 'sell', '1', 0, 'filled'),
      order('b1', 'buy', '8', 1),
      order('b2', 'buy', '12', 2),
      order('b3', 'buy', '100', 0, 'cancelled'),
    ];
    expect(bookSide(orders, 'sell').map((o) => o.id)).toEqual(['s2', 's3', 's1']);
    expect(bookSide(orders, 'buy').map((o) => o.id)).toEqual(['b2', 'b1']);
    expect(bookSide(orders, 'sell', true).map((o) => o.id)).toEqual(['s2', 's3', 's1', 's4']);
  });

  it('follows a posted message into the book', () => {
    const book = {
      market: 'm',
      rule: 'cda' as const,
      nowMs: 0,
      orders: [],
      trades: [],
      acks: [],
      accepted: ['a'],
      pending: ['p'],
      rejections: [{ reason: 'EXPIRED' as const, detail: 'late', messageId: 'r' }],
      ledgerIndex: 1,
    };
    expect(outcomeOf(undefined, 'a').state).toBe('waiting');
    expect(outcomeOf(book, 'a').state).toBe('accepted');
    expect(outcomeOf(book, 'p').state).toBe('pending');
    expect(outcomeOf(book, 'r')).toMatchObject({ state: 'rejected', rejection: { reason: 'EXPIRED' } });
    expect(outcomeOf(book, 'x').state).toBe('waiting');
  });
});
