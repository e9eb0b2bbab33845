import { describe, expect, it } from 'vitest';
import { toHex } from './bytes.js';
import { channelIdHex, ed25519PublicKey, x25519PublicKey } from './crypto.js';
import { recordLine, type VerifiableRecord } from './record-view.js';
import { exportRecords } from './records-export.js';
import { verifyRecords } from './records-verify.js';
import { didHistorySigners, staticSigners } from './signers.js';
import { deterministicRandom, fakePaymentNode, twoHourlyPeriods } from './testing.js';

const T0 = Date.parse('2026-11-24T05:00:00Z');
const keys = deterministicRandom('records.test keys');
const meterKey = keys(32);
const readerKey = keys(32);
const otherMeterKey = keys(32);
const meterPublic = ed25519PublicKey(meterKey);

/** Two hourly periods of a meter, exported as records by walking back from the newest block. */
async function exported(mode: 'public' | 'restricted', signingKey = meterKey) {
  const { writer, poster, periods } = await twoHourlyPeriods(
    signingKey,
    mode,
    [x25519PublicKey(readerKey)],
    T0,
  );
  const node = fakePaymentNode(poster, new Map());
  const publicKey = ed25519PublicKey(signingKey);
  // What the meter-agent's payments name: each period's last block and the announcement of its epoch.
  const payments = periods.map(({ closed }) => ({
    id: writer.channelId,
    fromSeq: closed.fromSeq,
    toSeq: closed.toSeq,
    lastBlockId: writer.message(closed.toSeq)!.blockId!,
    epochs: { [String(writer.message(closed.fromSeq)!.epoch)]: writer.message(closed.fromSeq)!.blockId! },
  }));
  const result = await exportRecords({
    blocks: node,
    channelId: writer.channelId,
    signers: staticSigners([publicKey]),
    publicKeys: [publicKey],
    readerSecretKey: readerKey,
    ...(mode === 'restricted' ? { payments } : { starts: [poster.order.at(-1)!] }),
  });
  return { result, node, poster, periods, lines: result.records.map(recordLine), writer };
}

const edit = (line: string, change: (r: VerifiableRecord) => void) => {
  const r = JSON.parse(line) as VerifiableRecord;
  change(r);
  return JSON.stringify(r);
};

const codes = (v: { failures: { code: string; seq?: number }[] }) =>
  v.failures.map((f) => `${f.code}@${f.seq}`);

describe('verifiable records: export and the standalone check', () => {
  it('exports every message of a restricted channel; the records verify with no key, totals from the signed bytes', async () => {
    const { result, lines, periods, writer } = await exported('restricted');
    expect(result.failures).toEqual([]);
    expect(result.records.map((r) => r.seq)).toEqual(Array.from({ length: lines.length }, (_, i) => i));
    const first = result.records[0]!;
    expect(first).toMatchObject({
      channelId: writer.channelId,
      mode: 'restricted',
      signer: { publicKey: toHex(meterPublic) },
    });
    expect(first.payload).toMatchObject({ GS: writer.channelId, PG: 'F0', XK: 'epoch', RD: [] });
    const closing = result.records.find((r) => r.payload.RD.length > 0)!;
    expect(closing.payload.RD[0]).toMatchObject({
      RI: '1-0:1.8.0',
      RU: 'Wh',
      XP: 'meter-1/0',
      XE: periods[0]!.summary.energyMWs.toString(),
    });
    expect(closing.payload.RD[0]!.TM).toMatch(/^2026-11-24T06:00:00,000\+0000 U$/);

    const verdict = await verifyRecords(lines.join('\n'));
    expect(verdict.failures).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.seqRange).toEqual([0, lines.length - 1]);
    expect(verdict.energyMWs).toBe(periods[0]!.summary.energyMWs + periods[1]!.summary.energyMWs);
  });

  it('checks each block on the ledger: the same bytes pass, a block that is gone or differs fails', async () => {
    const { lines, node, poster } = await exported('public');
    expect((await verifyRecords(lines.join('\n'), { ledger: node })).failures).toEqual([]);
    const third = JSON.parse(lines[2]!) as VerifiableRecord;
    const stored = poster.blocks.get(third.ledger.blockId)!;
    stored.bytes = stored.bytes.slice();
    stored.bytes[150] = stored.bytes[150]! ^ 1;
    const fifth = JSON.parse(lines[4]!) as VerifiableRecord;
    poster.blocks.delete(fifth.ledger.blockId);
    expect(codes(await verifyRecords(lines.join('\n'), { ledger: node }))).toEqual([
      'LEDGER_MISMATCH@2',
      'NOT_ON_LEDGER@4',
    ]);
  });

  it('a changed reading in the OCMF view is TAMPERED, naming the field', async () => {
    const { lines } = await exported('public');
    const at = lines.findIndex((l) => (JSON.parse(l) as VerifiableRecord).payload.RD.length > 0);
    const changed = [...lines];
    changed[at] = edit(lines[at]!, (r) => {
      r.payload.RD[0]!.XE = (BigInt(r.payload.RD[0]!.XE) + 1000n).toString();
    });
    const verdict = await verifyRecords(changed.join('\n'));
    expect(verdict.failures).toEqual([
      { code: 'TAMPERED', line: at + 1, seq: at, detail: 'payload.RD[0].XE is not what the meter signed' },
    ]);
  });

  it('a changed signed byte or signature is BAD_SIGNATURE', async () => {
    const { lines } = await exported('public');
    const changed = [...lines];
    changed[1] = edit(lines[1]!, (r) => {
      r.signed = `${r.signed.slice(0, 300)}${r.signed[300] === '0' ? '1' : '0'}${r.signed.slice(301)}`;
    });
    changed[3] = edit(lines[3]!, (r) => {
      r.signature.SD = `${r.signature.SD.slice(0, 10)}${r.signature.SD[10] === 'a' ? 'b' : 'a'}${r.signature.SD.slice(11)}`;
    });
    expect(codes(await verifyRecords(changed.join('\n')))).toEqual(['BAD_SIGNATURE@1', 'BAD_SIGNATURE@3']);
  });

  it('a deleted record is one MISSING line naming its seq; at the ends only when the range is expected', async () => {
    const { lines } = await exported('public');
    const without = lines.filter((_, i) => i !== 3);
    const verdict = await verifyRecords(without.join('\n'));
    expect(verdict.failures).toEqual([
      { code: 'MISSING', line: 4, seq: 3, detail: 'seq 3 missing (between seq 2 and 4)' },
    ]);
    const head = lines.slice(1).join('\n');
    expect((await verifyRecords(head)).ok).toBe(true);
    expect(codes(await verifyRecords(head, { expectSeq: { from: 0, to: lines.length - 1 } }))).toEqual([
      'MISSING@0',
    ]);
  });

  it('a duplicated record is DUPLICATE, a reordered pair one REORDERED line', async () => {
    const { lines } = await exported('public');
    const twice = [...lines.slice(0, 3), lines[2]!, ...lines.slice(3)];
    expect(codes(await verifyRecords(twice.join('\n')))).toEqual(['DUPLICATE@2']);
    const swapped = [...lines];
    [swapped[4], swapped[5]] = [lines[5]!, lines[4]!];
    expect(codes(await verifyRecords(swapped.join('\n')))).toEqual(['REORDERED@5']);
  });

  it('a record naming another key is WRONG_KEY; one signed by another meter is WRONG_CHANNEL, or WRONG_KEY with its own channel id', async () => {
    const { lines } = await exported('public');
    const other = await exported('public', otherMeterKey);
    const renamed = [...lines];
    renamed[2] = edit(lines[2]!, (r) => {
      r.signer.publicKey = toHex(ed25519PublicKey(otherMeterKey));
    });
    expect(codes(await verifyRecords(renamed.join('\n')))).toEqual(['WRONG_KEY@2']);
    const inserted = [...lines.slice(0, 3), other.lines[3]!, ...lines.slice(3)];
    expect(codes(await verifyRecords(inserted.join('\n')))).toEqual(['WRONG_CHANNEL@3']);
    // Someone else's whole file is consistent, but not signed by the key whose hash is its channel id? It is:
    // so given the expected meter's key, the other meter's records are refused.
    expect(channelIdHex(ed25519PublicKey(otherMeterKey))).toBe(other.writer.channelId);
    const given = await verifyRecords(other.lines.join('\n'), { signers: staticSigners([meterPublic]) });
    expect(given.failures.every((f) => f.code === 'WRONG_KEY')).toBe(true);
    expect(given.failures).toHaveLength(other.lines.length);
  });

  it('with a DID, the key its document lists at the record’s milestone signs; a key it does not list is WRONG_KEY', async () => {
    const { lines } = await exported('public');
    const listed = didHistorySigners([{ fromMilestone: 1, publicKeys: [meterPublic] }]);
    expect((await verifyRecords(lines.join('\n'), { signers: listed })).failures).toEqual([]);
    // The fake node says milestone 42 referenced every block: a document from 50 on does not cover them.
    const later = didHistorySigners([{ fromMilestone: 50, publicKeys: [meterPublic] }]);
    const verdict = await verifyRecords(lines.join('\n'), { signers: later });
    expect(verdict.failures.map((f) => f.code)).toEqual(lines.map(() => 'WRONG_KEY'));
  });

  it('a changed link in the chain is BROKEN_CHAIN; a line that is not a record is MALFORMED', async () => {
    const { lines } = await exported('restricted');
    const changed = [...lines];
    changed[2] = edit(lines[2]!, (r) => {
      r.wireHash = '00'.repeat(32);
    });
    changed.push('{"record":"nothing"}');
    changed.push(
      edit(lines[1]!, (r) => {
        r.signed = r.signed.slice(1);
      }),
    );
    changed.push('not json');
    const verdict = await verifyRecords(changed.join('\n'));
    expect(codes(verdict)).toEqual([
      'BROKEN_CHAIN@3',
      'MALFORMED@undefined',
      'MALFORMED@1',
      'MALFORMED@undefined',
    ]);
    expect(verdict.failures.slice(1).map((f) => f.detail)).toEqual([
      'record: must be "tanglewatt-record/v1"',
      'signed: lowercase hex, whole bytes',
      'not JSON',
    ]);
  });
});
