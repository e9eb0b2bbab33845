import { CodedError } from '@tanglewatt/errors';

/** Failures of the writer, the codecs and the identity helpers; each has a stable code callers can switch on. */
export type ChannelErrorCode =
  | 'INVALID_SAMPLE'
  | 'INVALID_SUMMARY'
  | 'INVALID_KEY'
  | 'INVALID_OPTIONS'
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED'
  | 'KEY_MISMATCH'
  | 'STATE_CORRUPT'
  | 'WRITER_CLOSED'
  | 'DID_ERROR'
  | 'DID_NOT_BOUND';

export class ChannelError extends CodedError<ChannelErrorCode> {
  override name = 'ChannelError';
}

/** Why the reader refused a message. See channels/README.md, "Reader failure reasons". */
export const READ_FAILURE_REASONS = [
  'BAD_SIGNATURE',
  'BROKEN_CHAIN',
  'GAP',
  'REPLAY',
  'WRONG_KEY',
  'MALFORMED',
  'WRONG_CHANNEL',
] as const;

export type ReadFailureReason = (typeof READ_FAILURE_REASONS)[number];

/** Thrown inside the decoders; the reader turns it into a failure with reason MALFORMED. */
export function malformed(detail: string): ChannelError {
  return new ChannelError('MALFORMED', detail);
}
