import { describe, expect, it } from 'vitest';
import { MarketError } from '../errors.js';
import { simulateCommunity } from './community.js';
import { summaryTable } from './summary.js';

describe('community simulator', () => {
  const run = simulateCommunity({ households: 12, hours: 24, seed: 3 });

  it('is deterministic in its options', () => {
    const again = simulateCommunity({ households: 12, hours: 24, seed: 3 });
    expect(again.messages).toEqual(run.messages);
    expect(again.summary).toEqual(run.summary);
    expect(simulateCommunity({ households: 12, hours: 24, seed: 4 }).summary).not.toEqual(run.summary);
  });

  it('accounts for every message and every trade', () => {
    const s = run.summary;
    const rejected = Object.values(s.rejected).reduce((a, n) => a + n, 0);
    expect(s.accepted + rejected).toBe(s.messages);
    expect(run.book.pending).toEqual([]);
    // Only what the simulator provokes: re-sends, late cancels, over-offers (and repricing a refused offer).
    const provoked = ['DUPLICATE', 'ORDER_CLOSED', 'OVER_COMMITTED', 'UNKNOWN_OFFER'];
    expect(Object.keys(s.rejected).filter((r) => !provoked.includes(r))).toEqual([]);
    expect(s.trades).toBeGreaterThan(0);
    expect(s.acks).toBe(2 * s.trades);
    expect(s.tradedWh).toBeLessThanOrEqual(s.demandWh);
    expect(s.deliveredWh + s.shortfallWh).toBeLessThanOrEqual(s.tradedWh);
    expect(s.owedUnits).toBeLessThanOrEqual(s.tradeValueUnits);
    expect(run.statements.every((st) => st.state !== 'delivering')).toBe(true);
  });

  it('trades only in daylight, from producers to consumers, within each producer’s forecast', () => {
    for (const t of run.book.trades) {
      expect(t.seller.startsWith('P') && t.buyer.startsWith('C')).toBe(true);
      const hour = new Date(t.window.startMs).getUTCHours();
      expect(hour).toBeGreaterThanOrEqual(5);
      expect(hour).toBeLessThan(21);
    }
  });

  it('summarizes in one line per figure', () => {
    const text = summaryTable(run.summary);
    expect(text.split('\n')).toHaveLength(12);
    expect(text).toMatch(/^households\s+12 \(/);
  });

  it('refuses a community of one', () => {
    expect(() => simulateCommunity({ households: 1, hours: 1, seed: 1 })).toThrow(MarketError);
  });
});
