import pino, { type Logger } from 'pino';

/** Human-readable lines on a terminal, JSON lines otherwise (systemd, CI, files). */
export function createLogger(name: string): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  if (process.stdout.isTTY && process.env.LOG_FORMAT !== 'json') {
    return pino({
      name,
      level,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' },
      },
    });
  }
  return pino({ name, level });
}
