export type DeployErrorCode =
  | 'GO_MISSING'
  | 'BUILD_FAILED'
  | 'PORT_IN_USE'
  | 'DATA_DIR_STALE'
  | 'ALREADY_RUNNING'
  | 'NOT_RUNNING'
  | 'START_FAILED'
  | 'SYNC_TIMEOUT'
  | 'BAD_CONFIG';

/** A failure of install or tangle orchestration; its message is one line that names the fix. */
export class DeployError extends Error {
  override name = 'DeployError';
  constructor(
    readonly code: DeployErrorCode,
    message: string,
    /** Longer evidence (build output, log tail) for logs; never needed to understand the message. */
    readonly detail?: string,
  ) {
    super(message);
  }
}
