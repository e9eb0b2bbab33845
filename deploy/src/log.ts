import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { type StatusConsole, terminal } from './console.js';

export type LogFormat = 'pretty' | 'json';

/**
 * Human-readable lines on a terminal, JSON lines otherwise (systemd, CI, files). LOG_FORMAT=json or
 * `--json-logs` forces JSON on a terminal too; LOG_FORMAT=pretty forces pretty lines into a pipe.
 */
export function chooseLogFormat(input: {
  isTTY: boolean;
  env: Record<string, string | undefined>;
  jsonLogs?: boolean;
}): LogFormat {
  if (input.jsonLogs || input.env.LOG_FORMAT === 'json') return 'json';
  if (input.env.LOG_FORMAT === 'pretty') return 'pretty';
  return input.isTTY ? 'pretty' : 'json';
}

/** Keys every line carries that a person does not need to see again. */
const HIDDEN = 'pid,hostname,name,household,meter';

/** Who speaks, in a few words: a household's wallet, a meter, or the component's name. */
export function speaker(line: Record<string, unknown>): string {
  if (typeof line.household === 'string') return `${line.household} wallet`;
  if (typeof line.meter === 'string') return `${line.meter} meter`;
  return typeof line.name === 'string' ? line.name : '';
}

const LONG_HEX = /^(0x)?[0-9a-f]{24,}$/;

/**
 * A line a person reads at a glance (JSON logs keep everything): a logged error as its message, not its
 * stack; a long hex id (block, transaction, channel) as its first and last characters.
 */
export function concise(line: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(line)) {
    if (
      (key === 'err' || key === 'error') &&
      value &&
      typeof value === 'object' &&
      typeof (value as { message?: unknown }).message === 'string'
    )
      line[key] = (value as { message: string }).message;
    else if (typeof value === 'string' && LONG_HEX.test(value))
      line[key] = `${value.slice(0, value.startsWith('0x') ? 10 : 8)}…${value.slice(-4)}`;
  }
  return line;
}

/** Formats pino's JSON lines as one short line each: time, level, who, message, then any other fields. */
export function prettyLines(colorize: boolean): (jsonLine: string) => string {
  const format = prettyFactory({
    colorize,
    ignore: HIDDEN,
    translateTime: 'HH:MM:ss',
    singleLine: true,
    errorLikeObjectKeys: [],
    messageFormat: (line, messageKey) => {
      const who = speaker(line);
      const message = String(line[messageKey] ?? '');
      return who ? `${colorize ? `\x1b[2m${who}\x1b[22m` : who}  ${message}` : message;
    },
  });
  return (jsonLine) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(jsonLine) as Record<string, unknown>;
    } catch {
      return jsonLine;
    }
    return format(concise(line));
  };
}

export interface LoggerOptions {
  /** Default: chooseLogFormat for this process's stdout and environment. */
  format?: LogFormat;
  /** Where pretty lines go (default: the process's terminal, which keeps the status line below them). */
  console?: StatusConsole;
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  const format =
    options.format ?? chooseLogFormat({ isTTY: process.stdout.isTTY === true, env: process.env });
  if (format === 'json') return pino({ name, level });
  // In this thread, not a transport worker: each line reaches the terminal before the status line is redrawn.
  const pretty = prettyLines(process.stdout.isTTY === true);
  const out = options.console ?? terminal;
  return pino({ name, level }, { write: (line: string) => out.print(pretty(line)) });
}
