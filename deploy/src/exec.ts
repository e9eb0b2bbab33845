import { spawn } from 'node:child_process';
import { CodedError } from '@tanglewatt/errors';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export type ExecErrorCode = 'COMMAND_NOT_FOUND' | 'COMMAND_FAILED';

export class ExecError extends CodedError<ExecErrorCode> {
  override name = 'ExecError';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    notFound = false,
  ) {
    super(
      notFound ? 'COMMAND_NOT_FOUND' : 'COMMAND_FAILED',
      notFound ? `${command}: not found` : `${command} exited with ${exitCode}`,
    );
  }
}

/** Runs a program to completion and collects its output; rejects with ExecError on a non-zero exit. */
export function exec(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    // An abort (Ctrl-C during start-up) stops the program with SIGTERM and rejects with the abort's reason.
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) return reject(options.signal.reason);
      reject(new ExecError(command, null, stdout, stderr || error.message, error.code === 'ENOENT'));
    });
    child.on('close', (code) => {
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new ExecError(`${command} ${args.join(' ')}`, code, stdout, stderr));
    });
  });
}

/** The last lines of a text, for one-line errors that point at evidence. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
