/**
 * Verifiable records: one line per channel message, shaped after OCMF (Open Charge Metering Format) but
 * signed as the meter signs its channel. Each record carries exactly the bytes the meter signed, its
 * Ed25519 signature and public key, and the ledger anchors of its block; `payload` is an OCMF-shaped view
 * of those bytes that the verifier derives again and compares, so the view cannot be altered unseen.
 * Browser-safe.
 */
import { toHex } from './bytes.js';
import type { MessageHeader } from './format.js';
import type { PeriodSummary, Sample } from './payload.js';

export const RECORD_FORMAT = 'tanglewatt-record/v1';
/** Our value for OCMF's SA: Ed25519 (RFC 8032, strict) over the channel's signature context ‖ `signed`. */
export const RECORD_SIGNATURE_ALGORITHM = 'ED25519-TWCH1';

/** OBIS codes of the readings: active energy import and export (period totals), active power. */
export const OBIS = {
  energyImport: '1-0:1.8.0',
  energyExport: '1-0:2.8.0',
  powerImport: '1-0:1.7.0',
  powerExport: '1-0:2.7.0',
} as const;

/** One OCMF reading (table 7): time, value, OBIS id, unit, status; XE is our exact value in mWs. */
export interface RecordReading {
  /** `2026-12-02T11:00:00,000+0000 U`: ISO 8601 with milliseconds and OCMF's time status (U: unknown). */
  TM: string;
  /** Period end: OCMF's transaction reason E (end). */
  TX: 'E';
  /** Energy of the period in Wh, rounded to mWh for display; XE is exact. */
  RV: number;
  RI: (typeof OBIS)['energyImport'] | (typeof OBIS)['energyExport'];
  RU: 'Wh';
  RT: 'DC';
  /** Meter status: G (good). */
  ST: 'G';
  /** Extension: the period id the meter signed. */
  XP: string;
  /** Extension: the exact energy in milliwatt-seconds (what the meter signed; negative for net export). */
  XE: string;
  /** Extension: the period's start (the end is TM). */
  XS: string;
}

/** The OCMF-shaped payload of a record (OCMF tables 1–7, with extensions in the X… namespace). */
export interface RecordPayload {
  FV: '1.0';
  /** Gateway identification: what produced the data. */
  GI: 'TangleWatt meter channel';
  /** Gateway serial: the channel id (SHA-256 of the meter's first key). */
  GS: string;
  /** Gateway version: the channel wire format. */
  GV: 'channel wire v1';
  /** Pagination: F (fiscal, no transaction reference) and the message's sequence number. */
  PG: string;
  MV: 'TangleWatt';
  /** Meter serial: the key id of the signing key (first 8 bytes of its SHA-256). */
  MS: string;
  /** Identification status: no user is assigned to a fiscal reading. */
  IS: false;
  RD: RecordReading[];
  /** Extension: message kind (data, or an epoch-key announcement with no readings). */
  XK: 'data' | 'epoch';
  /** Extension: the time range the message covers, Unix ms. */
  XT: [number, number];
  /** Extension: every sample the message carries, [Unix ms, mV, mA, mW] (mA and mW signed). */
  XV: [number, number, number, number][];
}

/** Where the record's block sits on the ledger. */
export interface RecordAnchor {
  blockId: string;
  /** The milestone that referenced (confirmed) the block. */
  milestoneIndex?: number;
  milestoneId?: string;
  /** Unix seconds, as milestones state it. */
  milestoneTimestamp?: number;
  /** The block's tagged-data tag. */
  tag?: string;
}

export interface VerifiableRecord {
  record: typeof RECORD_FORMAT;
  seq: number;
  channelId: string;
  mode: 'public' | 'restricted';
  payload: RecordPayload;
  /** Hex: exactly the bytes the meter signed (header ‖ payload of the channel message). */
  signed: string;
  signature: { SA: typeof RECORD_SIGNATURE_ALGORITHM; SE: 'hex'; SD: string };
  signer: { publicKey: string; did?: string };
  /** SHA-256 of the bytes on the ledger (the message, or its envelope when restricted). */
  wireHash: string;
  ledger: RecordAnchor;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** OCMF's time: `YYYY-MM-DDTHH:MM:SS,mmm+0000 U` (UTC; U: the meter's clock state is unknown). */
export function ocmfTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}+0000 U`;
}

/** mWs → Wh rounded to the mWh (3 600 mWs): display only; XE holds the exact value. */
function whOf(energyMWs: bigint): number {
  const abs = energyMWs < 0n ? -energyMWs : energyMWs;
  const mWh = (abs * 2n + 3_600n) / 7_200n; // round half up
  return Number(mWh) / 1000;
}

function readingOf(s: PeriodSummary): RecordReading {
  return {
    TM: ocmfTime(s.endMs),
    TX: 'E',
    RV: whOf(s.energyMWs),
    RI: s.energyMWs < 0n ? OBIS.energyExport : OBIS.energyImport,
    RU: 'Wh',
    RT: 'DC',
    ST: 'G',
    XP: s.periodId,
    XE: s.energyMWs.toString(),
    XS: ocmfTime(s.startMs),
  };
}

/** The OCMF-shaped view of a message: a pure function of what the meter signed. */
export function recordPayloadOf(
  header: MessageHeader,
  content: { samples: Sample[]; summaries: PeriodSummary[] },
): RecordPayload {
  return {
    FV: '1.0',
    GI: 'TangleWatt meter channel',
    GS: toHex(header.channelId),
    GV: 'channel wire v1',
    PG: `F${header.seq}`,
    MV: 'TangleWatt',
    MS: toHex(header.keyId),
    IS: false,
    RD: content.summaries.map(readingOf),
    XK: header.kind,
    XT: [header.fromMs, header.toMs],
    XV: content.samples.map((s) => [s.timestampMs, s.busVoltageMV, s.currentMA, s.powerMW]),
  };
}

/** A record as one JSON line (keys in a fixed order, so equal records print equal lines). */
export function recordLine(record: VerifiableRecord): string {
  return JSON.stringify(record);
}
