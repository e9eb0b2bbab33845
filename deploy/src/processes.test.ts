import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRunning, processStartTime } from './processes.js';

describe('isRunning', () => {
  it('knows a recorded process by its PID, its binary and its kernel start time', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      const binary = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!;
      const startTime = processStartTime(pid);
      expect(startTime).toBeGreaterThan(0);
      expect(isRunning({ pid, binary, startTime: startTime! })).toBe(true);
      // The same PID with another start time is another process (the PID was reused).
      expect(isRunning({ pid, binary, startTime: startTime! + 1 })).toBe(false);
      expect(isRunning({ pid, binary: '/usr/bin/hornet' })).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(isRunning({ pid: child.pid!, binary: 'sleep' })).toBe(false);
  });
});
