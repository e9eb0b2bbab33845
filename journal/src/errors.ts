import { CodedError } from '@tanglewatt/errors';

export type JournalErrorCode =
  | 'DATA_DIR_LOCKED'
  | 'JOURNAL_CORRUPT'
  | 'JOURNAL_FAILED'
  | 'JOURNAL_REWRITE_FAILED';

/** Another live process (or this one) holds the data dir's lock. */
export class DataDirLockedError extends CodedError<'DATA_DIR_LOCKED'> {
  override name = 'DataDirLockedError';
  constructor(
    message: string,
    readonly holderPid: number | undefined,
  ) {
    super('DATA_DIR_LOCKED', message);
  }
}

export class JournalCorruptError extends CodedError<'JOURNAL_CORRUPT'> {
  override name = 'JournalCorruptError';
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(
      'JOURNAL_CORRUPT',
      `${file}: line ${line} is damaged (checksum mismatch); restore the file from a backup or move it away`,
    );
  }
}

/** The journal met a disk failure and accepts no more appends until it is reopened. */
export class JournalFailedError extends CodedError<'JOURNAL_FAILED'> {
  override name = 'JournalFailedError';
  constructor(
    readonly file: string,
    readonly during: 'write' | 'sync' | 'rewrite',
    cause: unknown,
  ) {
    super(
      'JOURNAL_FAILED',
      `${file}: ${during} failed (${describe(cause)}); the journal accepts no more appends until it is reopened`,
      { cause },
    );
  }
}

/** A rewrite that failed before replacing anything: the old file is intact and the journal still works. */
export class JournalRewriteError extends CodedError<'JOURNAL_REWRITE_FAILED'> {
  override name = 'JournalRewriteError';
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(
      'JOURNAL_REWRITE_FAILED',
      `${file}: rewrite failed (${describe(cause)}); the journal kept its previous content`,
      { cause },
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
