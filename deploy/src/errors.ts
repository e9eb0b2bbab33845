import { CodedError } from '@tanglewatt/errors';

export type DeployErrorCode =
  | 'GO_MISSING'
  | 'BUILD_FAILED'
  | 'PORT_IN_USE'
  | 'DATA_DIR_STALE'
  | 'ALREADY_RUNNING'
  | 'NOT_RUNNING'
  | 'START_FAILED'
  | 'SYNC_TIMEOUT'
  | 'BAD_CONFIG'
  | 'INTERRUPTED';

/** A failure of install or tangle orchestration; its message is one line that names the fix. */
export class DeployError extends CodedError<DeployErrorCode> {
  override name = 'DeployError';
  constructor(
    code: DeployErrorCode,
    message: string,
    /** Longer evidence (build output, log tail) for logs; never needed to understand the message. */
    readonly detail?: string,
  ) {
    super(code, message);
  }
}

/** The reason a start-up is aborted with when a signal arrives: what was started so far is stopped. */
export function interrupted(signal: string): DeployError {
  return new DeployError('INTERRUPTED', `${signal} during start-up: stopped what had started`);
}

/** Throws the abort's reason once `signal` has fired: checked between start-up steps. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
