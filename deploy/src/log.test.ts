import { describe, expect, it } from 'vitest';
import { StatusConsole } from './console.js';
import { chooseLogFormat, createLogger, prettyLines, speaker } from './log.js';

describe('chooseLogFormat', () => {
  it('is pretty on a terminal and JSON into a pipe or file', () => {
    expect(chooseLogFormat({ isTTY: true, env: {} })).toBe('pretty');
    expect(chooseLogFormat({ isTTY: false, env: {} })).toBe('json');
  });

  it('--json-logs and LOG_FORMAT=json force JSON on a terminal', () => {
    expect(chooseLogFormat({ isTTY: true, env: {}, jsonLogs: true })).toBe('json');
    expect(chooseLogFormat({ isTTY: true, env: { LOG_FORMAT: 'json' } })).toBe('json');
  });

  it('LOG_FORMAT=pretty forces pretty lines into a pipe, but --json-logs wins over it', () => {
    expect(chooseLogFormat({ isTTY: false, env: { LOG_FORMAT: 'pretty' } })).toBe('pretty');
    expect(chooseLogFormat({ isTTY: false, env: { LOG_FORMAT: 'pretty' }, jsonLogs: true })).toBe('json');
  });
});

describe('pretty lines', () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 1, hostname: 'h', ...fields });

  it('names the household wallet or meter that speaks, on one line without pid or hostname', () => {
    const pretty = prettyLines(false);
    const out = pretty(line({ name: 'start', household: 'producer', msg: 'payment included', amount: '12' }));
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out).toContain('INFO');
    expect(out).toContain('producer wallet  payment included');
    expect(out).toContain('"amount":"12"');
    expect(out).not.toContain('hostname');
    expect(speaker({ name: 'start', meter: 'consumer' })).toBe('consumer meter');
    expect(speaker({ name: 'start' })).toBe('start');
  });

  it('shows a logged error by its message, not its stack', () => {
    const out = prettyLines(false)(
      line({
        msg: 'read failed',
        err: { type: 'Error', message: 'bus busy', stack: 'Error: bus busy\n    at x' },
      }),
    );
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(out).toContain('"err":"bus busy"');
  });

  it('shortens long hex ids to their first and last characters', () => {
    const txId = `0x${'ab'.repeat(32)}`;
    const out = prettyLines(false)(line({ msg: 'transaction posted', txId, seq: 5 }));
    expect(out).toContain('"txId":"0xabababab…abab"');
    expect(out).toContain('"seq":5');
  });

  it('a pretty logger writes through the console, above its status line', () => {
    const written: string[] = [];
    const terminal = new StatusConsole({ write: (s) => written.push(s) });
    terminal.setStatus('milestone 7');
    createLogger('start', { format: 'pretty', console: terminal }).info('hello');
    const out = written.at(-1)!;
    expect(out.startsWith('\r\x1b[2K')).toBe(true);
    expect(out).toContain('start  hello\n');
    expect(out.endsWith('\nmilestone 7')).toBe(true);
  });
});
