import { describe, expect, it } from 'vitest';
import { formatPower, formatStatusLine, StatusConsole, type StatusSnapshot } from './console.js';

const snapshot: StatusSnapshot = {
  dashboardUrl: 'http://127.0.0.1:8480',
  milestone: { index: 1234, ageMs: 2_400 },
  meters: [
    { name: 'producer', powerUW: 31_250_000 },
    { name: 'consumer', powerUW: null },
  ],
  payments: { queued: 2, included: 57 },
  offers: 3,
};

describe('formatStatusLine', () => {
  it('shows the milestone and its age, each meter with its power, payments, offers and the dashboard', () => {
    expect(formatStatusLine(snapshot, 200)).toBe(
      'milestone 1234 (2s ago) │ producer 31.3 W, consumer – │ payments 2 queued, 57 included │ offers 3 │ http://127.0.0.1:8480',
    );
  });

  it('says what it does not know yet', () => {
    const { milestone: _m, offers: _o, ...rest } = snapshot;
    expect(formatStatusLine(rest, 200)).toMatch(/^milestone – │ .* │ offers – │ /);
  });

  it('is cut to the terminal width so it never wraps', () => {
    const line = formatStatusLine(snapshot, 40);
    expect(line).toHaveLength(39);
    expect(line.endsWith('…')).toBe(true);
  });

  it('gives an old milestone in minutes', () => {
    expect(formatStatusLine({ ...snapshot, milestone: { index: 9, ageMs: 600_000 } }, 200)).toContain(
      'milestone 9 (10m ago)',
    );
  });
});

describe('formatPower', () => {
  it('uses W with one decimal, kW from 1000 W, and keeps the sign', () => {
    expect(formatPower(4_100_000)).toBe('4.1 W');
    expect(formatPower(-2_000_000)).toBe('-2.0 W');
    expect(formatPower(1_500_000_000)).toBe('1.50 kW');
  });
});

describe('StatusConsole', () => {
  function recorder() {
    const written: string[] = [];
    return { written, terminal: new StatusConsole({ write: (s) => written.push(s) }) };
  }

  it('passes text straight through while there is no status line', () => {
    const { written, terminal } = recorder();
    terminal.print('a line\n');
    expect(written).toEqual(['a line\n']);
  });

  it('clears the status line, prints the log line, and draws the status line again below it', () => {
    const { written, terminal } = recorder();
    terminal.setStatus('status 1');
    terminal.print('log line');
    terminal.setStatus('status 2');
    terminal.clearStatus();
    terminal.print('after\n');
    expect(written).toEqual([
      '\r\x1b[2Kstatus 1',
      '\r\x1b[2Klog line\nstatus 1',
      '\r\x1b[2Kstatus 2',
      '\r\x1b[2K',
      'after\n',
    ]);
  });
});
