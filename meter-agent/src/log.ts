import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * JSON lines on stdout (systemd's journal keeps them). Anything named like a token is censored, so a
 * wallet-service token passed into a log call by mistake never reaches the log.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['token', '*.token', '*.*.token', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** For tests and embedding: a logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
