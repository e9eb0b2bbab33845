/**
 * The operator's terminal while `npm start` runs: log lines scroll, and one status line stays at the
 * bottom. Every write clears the status line, prints the log text, and draws the status line again.
 */

/** What the status line shows, gathered once a second from the running system. */
export interface StatusSnapshot {
  dashboardUrl: string;
  /** The newest confirmed milestone and how long ago the coordinator issued it; absent while unknown. */
  milestone?: { index: number; ageMs: number };
  /** Each meter's signed power at its last sample (null before the first valid one). */
  meters: { name: string; powerUW: number | null }[];
  /** Payments over both households: waiting for a milestone, and included by one. */
  payments: { queued: number; included: number };
  /** Open sell offers in the market book; absent when the book could not be read. */
  offers?: number;
}

/** A power for a glance: W with one decimal, kW from 1000 W on. */
export function formatPower(powerUW: number | null): string {
  if (powerUW === null) return '–';
  const watts = powerUW / 1e6;
  if (Math.abs(watts) >= 1000) return `${(watts / 1000).toFixed(2)} kW`;
  return `${watts.toFixed(1)} W`;
}

function formatAge(ageMs: number): string {
  const seconds = Math.max(0, Math.round(ageMs / 1000));
  return seconds < 120 ? `${seconds}s` : `${Math.round(seconds / 60)}m`;
}

/** The status line, cut to `width` columns so it never wraps (a wrapped line could not be redrawn in place). */
export function formatStatusLine(s: StatusSnapshot, width: number): string {
  const parts = [
    s.milestone ? `milestone ${s.milestone.index} (${formatAge(s.milestone.ageMs)} ago)` : 'milestone –',
    s.meters.map((m) => `${m.name} ${formatPower(m.powerUW)}`).join(', '),
    `payments ${s.payments.queued} queued, ${s.payments.included} included`,
    `offers ${s.offers ?? '–'}`,
    s.dashboardUrl,
  ].filter(Boolean);
  const line = parts.join(' │ ');
  const max = Math.max(0, width - 1);
  return line.length <= max ? line : `${line.slice(0, Math.max(0, max - 1))}…`;
}

export interface Output {
  write(text: string): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';

/** Log text above, one status line below; without a status line it passes text straight through. */
export class StatusConsole {
  private status = '';

  constructor(private readonly out: Output) {}

  /** Prints text (whole lines) above the status line. */
  print(text: string): void {
    if (!this.status) {
      this.out.write(text);
      return;
    }
    const lines = text.endsWith('\n') ? text : `${text}\n`;
    this.out.write(`${CLEAR_LINE}${lines}${this.status}`);
  }

  /** Draws (or redraws) the status line; the cursor stays at its end. */
  setStatus(line: string): void {
    this.status = line;
    this.out.write(`${CLEAR_LINE}${line}`);
  }

  /** Removes the status line, leaving the cursor at the start of an empty line. */
  clearStatus(): void {
    if (!this.status) return;
    this.status = '';
    this.out.write(CLEAR_LINE);
  }
}

/** The process's terminal: every pretty log line and the start-up summary go through it. */
export const terminal = new StatusConsole(process.stdout);
