/**
 * A meter's channel in the explorer: what its agent says about it, and its newest messages read from the
 * Tangle (blocks through the wallet-service) and verified in the browser with @tanglewatt/channels. Loaded
 * lazily: the channel code (codecs, @noble crypto, fflate) stays out of the initial route.
 */
import {
  channelIdHex,
  fetchBlockEntry,
  fromHex,
  type ReadResult,
  type SourceEntry,
  staticSigners,
  type VerifiedMessage,
  verifyEntries,
} from '@tanglewatt/channels';
import { type FormEvent, useId, useMemo, useState } from 'react';
import type { RequestOptions } from '../../api/http';
import type { AgentChannelView, ChannelBlocks } from '../../api/meter';
import { ErrorMessage, Loading } from '../../components/states';
import { formatDateTime, isoTime } from '../../format/time';
import { useResource } from '../../hooks/useResource';
import { FullId, Ref } from './parts';

/** How many of the newest messages the view reads. */
export const CHANNEL_MESSAGES = 20;
/** How many samples of each message the table shows. */
const SAMPLE_ROWS = 5;

export interface ChannelViewProps {
  channelId: string;
  meter: { name: string; url: string };
  channel: AgentChannelView;
  /** The agent's GET /channel/blocks. */
  channelBlocks(limit: number, o?: RequestOptions): Promise<ChannelBlocks>;
  /** The wallet-service's GET /node/blocks/:id. */
  block(id: string, o?: RequestOptions): Promise<unknown>;
}

interface Fetched {
  entries: SourceEntry[];
  /** The agent has no /channel/blocks (an older agent), or lists nothing yet. */
  note?: string;
}

async function fetchEntries(props: ChannelViewProps, signal: AbortSignal): Promise<Fetched> {
  let index: ChannelBlocks;
  try {
    index = await props.channelBlocks(CHANNEL_MESSAGES, { signal });
  } catch (error) {
    if ((error as { status?: number }).status === 404)
      return {
        entries: [],
        note: 'This meter agent does not list its channel’s blocks (GET /channel/blocks).',
      };
    throw error;
  }
  if (index.items.length === 0)
    return { entries: [], note: 'No message of a closed period is on the Tangle yet.' };
  const api = {
    block: (id: string) => props.block(id, { signal }) as Promise<{ payload?: { type: number } }>,
    blockMetadata: async () => ({}),
  };
  const entries = await Promise.all(
    index.items.map(async (i) => ({
      ...(await fetchBlockEntry(api, i.blockId, { milestones: false })),
      seq: i.seq,
    })),
  );
  return { entries };
}

function read(entries: SourceEntry[], channel: AgentChannelView, readerSecretKey?: Uint8Array): ReadResult {
  return verifyEntries(entries, {
    channelId: channel.channelId,
    // The agent's word for the signing key; it is the channel's genesis key when the id is its hash.
    signers: staticSigners([fromHex(channel.signingPublicKey, 32, 'signing key')]),
    mode: channel.mode,
    startAnywhere: true,
    allFailures: true,
    ...(readerSecretKey ? { readerSecretKey } : {}),
  });
}

export function ChannelView(props: ChannelViewProps) {
  const { channel, meter, channelId } = props;
  const genesis = (() => {
    try {
      return channelIdHex(fromHex(channel.signingPublicKey, 32)) === channelId;
    } catch {
      return false;
    }
  })();
  const fetched = useResource(
    (signal) => fetchEntries(props, signal),
    `${meter.url}|${channelId}|${channel.lastPostedSeq}`,
  );
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">Channel</h2>
      <p>
        <FullId id={channelId} />
      </p>
      <dl className="kv">
        <dt>Meter</dt>
        <dd>
          {meter.name} <span className="muted">({meter.url})</span>
        </dd>
        <dt>Mode</dt>
        <dd>{channel.mode}</dd>
        <dt>Signing key</dt>
        <dd>
          <code title={channel.signingPublicKey}>{channel.signingPublicKey.slice(0, 16)}…</code>{' '}
          <span className="muted">
            {genesis ? '(the channel id is its hash)' : '(rotated: the agent’s word for the current key)'}
          </span>
        </dd>
        <dt>Last seq</dt>
        <dd>
          {channel.lastSeq ?? '—'}
          {channel.lastPostedSeq !== channel.lastSeq && (
            <span className="muted"> (on the Tangle: {channel.lastPostedSeq ?? 'none yet'})</span>
          )}
        </dd>
        <dt>Last block</dt>
        <dd>
          {channel.lastBlockId ? <Ref id={channel.lastBlockId} /> : <span className="muted">none yet</span>}
        </dd>
      </dl>
      <h3>Newest messages</h3>
      {fetched.loading ? (
        <Loading what="the channel’s blocks" />
      ) : !fetched.data ? (
        <ErrorMessage error={fetched.error} what="the channel’s blocks" retry={fetched.reload} />
      ) : fetched.data.note ? (
        <p className="state state-empty" role="status">
          {fetched.data.note}
        </p>
      ) : channel.mode === 'restricted' ? (
        <RestrictedMessages entries={fetched.data.entries} channel={channel} />
      ) : (
        <PublicMessages entries={fetched.data.entries} channel={channel} />
      )}
    </article>
  );
}

function PublicMessages({ entries, channel }: { entries: SourceEntry[]; channel: AgentChannelView }) {
  const result = useMemo(() => read(entries, channel), [entries, channel]);
  return <ReadOutcome result={result} />;
}

function RestrictedMessages({ entries, channel }: { entries: SourceEntry[]; channel: AgentChannelView }) {
  const inputId = useId();
  const hintId = useId();
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<{ result?: ReadResult; error?: string }>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let key: Uint8Array;
    try {
      key = fromHex(text.trim().replace(/^0x/i, ''), 32, 'reader key');
    } catch {
      setOutcome({ error: 'A reader key is an X25519 secret key: 64 hex digits.' });
      return;
    }
    setOutcome({ result: read(entries, channel, key) });
    key.fill(0);
  };
  return (
    <>
      <form className="search" onSubmit={submit}>
        <label htmlFor={inputId}>Reader key</label>
        <div className="search-row">
          <input
            id={inputId}
            type="password"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="X25519 secret key, 64 hex digits"
            aria-describedby={hintId}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit">Decode</button>
        </div>
        <p id={hintId} className="hint">
          {entries.length} sealed messages. The key decodes them here, in this page: it is never stored and
          never sent anywhere.
        </p>
      </form>
      {outcome?.error && (
        <p className="state state-error" role="alert">
          {outcome.error}
        </p>
      )}
      {outcome?.result && <ReadOutcome result={outcome.result} />}
    </>
  );
}

const volts = (mV: number) => (mV / 1000).toFixed(3);
const amps = (mA: number) => (mA / 1000).toFixed(3);
const watts = (mW: number) => (mW / 1000).toFixed(3);

function ReadOutcome({ result }: { result: ReadResult }) {
  const data = result.messages.filter((m) => m.kind === 'data');
  const epochs = result.messages.length - data.length;
  return (
    <section aria-label="Verified messages">
      <p role="status">
        {result.messages.length} verified ({data.length} data
        {epochs ? `, ${epochs} epoch announcement${epochs > 1 ? 's' : ''}` : ''})
        {result.failures.length ? `, ${result.failures.length} failed` : ''}.
      </p>
      {result.failures.length > 0 && (
        <ul className="state state-error" aria-label="Failures">
          {result.failures.map((f) => (
            <li key={f.position}>
              {f.seq !== undefined ? `seq ${f.seq}: ` : ''}
              <strong>{f.reason}</strong> — {f.detail}
            </li>
          ))}
        </ul>
      )}
      {data.map((m) => (
        <MessageRow key={m.seq} message={m} />
      ))}
    </section>
  );
}

function MessageRow({ message: m }: { message: VerifiedMessage }) {
  return (
    <section className="channel-message" aria-label={`Message ${m.seq}`}>
      <h4>
        seq {m.seq}{' '}
        <span className="muted">
          <time dateTime={isoTime(m.fromMs)}>{formatDateTime(m.fromMs)}</time> –{' '}
          <time dateTime={isoTime(m.toMs)}>{formatDateTime(m.toMs)}</time> · {m.samples.length} samples
          {m.summaries.length ? ` · closes ${m.summaries.map((s) => s.periodId).join(', ')}` : ''}
        </span>{' '}
        {m.blockId && <Ref id={m.blockId} />}
      </h4>
      {m.samples.length > 0 && (
        <table>
          <caption className="visually-hidden">First samples of message {m.seq}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">V</th>
              <th scope="col">A</th>
              <th scope="col">W</th>
            </tr>
          </thead>
          <tbody>
            {m.samples.slice(0, SAMPLE_ROWS).map((s) => (
              <tr key={s.timestampMs}>
                <td>
                  <time dateTime={isoTime(s.timestampMs)}>{formatDateTime(s.timestampMs)}</time>
                </td>
                <td>{volts(s.busVoltageMV)}</td>
                <td>{amps(s.currentMA)}</td>
                <td>{watts(s.powerMW)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export default ChannelView;
