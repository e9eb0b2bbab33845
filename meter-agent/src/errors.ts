import { CodedError } from '@tanglewatt/errors';

/** Every failure the agent reports to a person has one of these codes and a one-line message naming the fix. */
export type MeterAgentErrorCode =
  | 'BAD_CONFIG'
  | 'NO_I2C'
  | 'NO_GPIO'
  | 'RELAY_NOT_SWITCHED'
  | 'SENSOR_MISSING'
  | 'SENSOR_READ_FAILED'
  | 'CALIBRATION_OUT_OF_RANGE'
  | 'TRACE_INVALID'
  | 'DATA_DIR_LOCKED'
  | 'TOKEN_UNREADABLE'
  | 'PURCHASE_REFUSED';

export class MeterAgentError extends CodedError<MeterAgentErrorCode> {
  override name = 'MeterAgentError';
}

/** The first line of whatever was thrown: what a one-line report shows. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n', 1)[0] ?? error.message;
  return String(error);
}

/** An agent config file that does not validate: `path` is the key path (e.g. `sensors.0.address`). */
export class AgentConfigError extends MeterAgentError {
  override name = 'AgentConfigError';
  constructor(
    readonly file: string,
    readonly path: string,
    allowed: string,
  ) {
    super('BAD_CONFIG', `${file}: ${path}: ${allowed}`);
  }
}
