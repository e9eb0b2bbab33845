import { execFile } from 'node:child_process';
import { errorMessage } from './errors.js';
import type { Logger } from './log.js';

/**
 * systemd's notify protocol for `Type=notify` with `WatchdogSec=`: READY=1 once the agent runs, WATCHDOG=1
 * only after samples are actually taken, STOPPING=1 on a stop. Sent through the `systemd-notify` tool
 * (Node has no unix datagram sockets, and a native module would need a build on the Pi). The tool waits
 * for the manager to take each message (a barrier), so with `NotifyAccess=all` it is attributed to the
 * unit even though it comes from a child process.
 */
export interface ServiceNotifier {
  ready(): Promise<void>;
  /** A sample was taken and counted: pings the watchdog when a ping is due. */
  sampleTaken(): void;
  stopping(): Promise<void>;
}

export interface NotifierOptions {
  log: Logger;
  /** The tool to run; `systemd-notify` on the PATH by default. */
  command?: string;
  nowMs?: () => number;
}

/** Undefined unless systemd gave a NOTIFY_SOCKET (not run by systemd, or not `Type=notify`). */
export function systemdNotifier(
  env: NodeJS.ProcessEnv,
  options: NotifierOptions,
): ServiceNotifier | undefined {
  if (!env.NOTIFY_SOCKET) return undefined;
  const { log, command = 'systemd-notify', nowMs = Date.now } = options;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
  // Three pings per watchdog period: one lost or late ping does not get a healthy agent killed.
  const pingEveryMs = usec > 0 && forUs ? usec / 1000 / 3 : undefined;
  let lastPingMs = Number.NEGATIVE_INFINITY;
  let pinging = false;

  const send = (args: string[]) =>
    new Promise<void>((resolve) => {
      execFile(command, args, { env, timeout: 10_000 }, (error) => {
        if (error) log.warn({ args, error: errorMessage(error) }, 'systemd-notify failed');
        resolve();
      });
    });

  return {
    ready: () => send(['--ready', `--status=metering`]),
    sampleTaken() {
      if (pingEveryMs === undefined || pinging) return;
      const now = nowMs();
      if (now - lastPingMs < pingEveryMs) return;
      lastPingMs = now;
      pinging = true;
      void send(['WATCHDOG=1']).finally(() => {
        pinging = false;
      });
    },
    stopping: () => send(['STOPPING=1']),
  };
}
