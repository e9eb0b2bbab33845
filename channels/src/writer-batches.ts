/** How a batch of readings becomes data payloads that each fit one message. */
import { ChannelError } from './errors.js';
import {
  type ChannelMode,
  ENVELOPE_PREFIX_BYTES,
  GCM_TAG_BYTES,
  KEY_CHECK_BYTES,
  MIN_INNER_BYTES,
  NONCE_BYTES,
} from './format.js';
import {
  type DataPayload,
  encodeDataPayload,
  MAX_SAMPLES_PER_MESSAGE,
  type PeriodSummary,
  type Sample,
  timeRangeOf,
} from './payload.js';

/** Readings and summaries waiting to be sealed; `closesPeriod` when the last part ends a period. */
export interface Batch {
  samples: Sample[];
  summaries: PeriodSummary[];
  closesPeriod?: string;
}

const RESTRICTED_OVERHEAD = ENVELOPE_PREFIX_BYTES + NONCE_BYTES + KEY_CHECK_BYTES + GCM_TAG_BYTES;

/** Splits a batch so every message stays under maxMessageBytes; summaries ride with the last part. */
export function splitBatch(batch: Batch, mode: ChannelMode, maxMessageBytes: number): DataPayload[] {
  const overhead = MIN_INNER_BYTES + (mode === 'restricted' ? RESTRICTED_OVERHEAD : 0);
  const fits = (p: DataPayload) => {
    if (p.samples.length > MAX_SAMPLES_PER_MESSAGE) return false;
    const range = timeRangeOf(p);
    return !range || encodeDataPayload(p, range.fromMs).length + overhead <= maxMessageBytes;
  };
  const split = (p: DataPayload): DataPayload[] => {
    if (fits(p)) return [p];
    if (p.samples.length <= 1)
      throw new ChannelError(
        'MESSAGE_TOO_LARGE',
        'a single reading with its summaries does not fit a message',
      );
    const half = Math.ceil(p.samples.length / 2);
    return [
      ...split({ samples: p.samples.slice(0, half), summaries: [] }),
      ...split({ samples: p.samples.slice(half), summaries: p.summaries }),
    ];
  };
  if (batch.samples.length === 0 && batch.summaries.length === 0) return [];
  return split({ samples: batch.samples, summaries: batch.summaries });
}
