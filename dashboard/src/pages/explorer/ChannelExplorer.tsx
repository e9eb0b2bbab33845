/**
 * A meter's channel in the explorer: what its agent says about it, and its newest messages read from the
 * Tangle (blocks through the wallet-service) and verified in the browser with @tanglewatt/channels, against
 * the keys the meter's DID document lists (resolved from the ledger through the wallet-service). Loaded
 * lazily: the channel code (codecs, @noble crypto, fflate) stays out of the initial route.
 */
import {
  channelIdHex,
  fromHex,
  type ReadResult,
  type SourceEntry,
  type VerifiedMessage,
} from '@tanglewatt/channels';
import { type FormEvent, useId, useMemo, useState } from 'react';
import type { MeterDid } from '../../api/config';
import type { RequestOptions } from '../../api/http';
import { describeError } from '../../api/http';
import type { AgentChannelView } from '../../api/meter';
import type { DidResolution } from '../../api/wallet';
import { DataTable } from '../../components/DataTable';
import { SearchRow } from '../../components/SearchRow';
import { ErrorMessage, InlineError, Loading } from '../../components/states';
import { Term } from '../../components/Term';
import { formatDateTime, isoTime } from '../../format/time';
import { useResource } from '../../hooks/useResource';
import { type ChannelSources, type CheckedTrust, fetchEntries, read, type Trust } from './channel-read';
import { channelMethodOf, type DidSigner, didSignerOf } from './did-keys';
import { FoundPanel, Ref } from './parts';

/** How many samples of each message the table shows. */
const SAMPLE_ROWS = 5;

export interface ChannelExplorerProps extends ChannelSources {
  channelId: string;
  meter: { name: string; url: string };
  channel: AgentChannelView;
  /** The meter's DID from the dashboard's config, if it names one. */
  did?: MeterDid;
  /** The wallet-service's GET /dids/:did. */
  resolveDid(ref: MeterDid, o?: RequestOptions): Promise<DidResolution>;
}

export function ChannelExplorer(props: ChannelExplorerProps) {
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
  const [didRef, setDidRef] = useState<MeterDid | undefined>(props.did);
  const resolved = useResource(
    (signal) => (didRef ? props.resolveDid(didRef, { signal }) : Promise.resolve(undefined)),
    didRef ? `${didRef.did}|${didRef.originOutputId}` : '',
  );
  const trust: Trust = !didRef
    ? { kind: 'agent', publicKey: channel.signingPublicKey }
    : resolved.data && resolved.data.did === didRef.did
      ? { kind: 'did', resolution: resolved.data }
      : resolved.loading || resolved.reloading
        ? { kind: 'resolving', did: didRef.did }
        : { kind: 'unresolved', did: didRef.did, error: resolved.error };
  return (
    <FoundPanel title="Channel" id={channelId}>
      <dl className="kv">
        <Term name="Meter">
          {meter.name} <span className="muted">({meter.url})</span>
        </Term>
        <Term name="Mode">{channel.mode}</Term>
        <Term name="Signing key">
          <KeyPrefix hex={channel.signingPublicKey} />{' '}
          <span className="muted">
            {genesis ? '(the channel id is its hash)' : '(rotated: the agent’s word for the current key)'}
          </span>
        </Term>
        <Term name="Last seq">
          {channel.lastSeq ?? '—'}
          {channel.lastPostedSeq !== channel.lastSeq && (
            <span className="muted"> (on the Tangle: {channel.lastPostedSeq ?? 'none yet'})</span>
          )}
        </Term>
        <Term name="Last block">
          {channel.lastBlockId ? <Ref id={channel.lastBlockId} /> : <span className="muted">none yet</span>}
        </Term>
        <Term name="Signatures checked against">
          <TrustSummary trust={trust} channelId={channelId} />
        </Term>
      </dl>
      <DidForm current={didRef} onSubmit={setDidRef} />
      <h3>Newest messages</h3>
      {fetched.loading ? (
        <Loading what="the channel’s blocks" />
      ) : !fetched.data ? (
        <ErrorMessage error={fetched.error} what="the channel’s blocks" retry={fetched.reload} />
      ) : fetched.data.note ? (
        <p className="state state-empty" role="status">
          {fetched.data.note}
        </p>
      ) : trust.kind === 'resolving' ? (
        <Loading what={`the DID document of ${trust.did}`} />
      ) : trust.kind === 'unresolved' ? (
        <div className="state state-error" role="alert">
          <p>
            <strong>The meter’s DID could not be resolved, so no signature is checked.</strong>{' '}
            {describeError(trust.error)}
          </p>
          <button type="button" onClick={resolved.reload}>
            Try again
          </button>
        </div>
      ) : channel.mode === 'restricted' ? (
        <RestrictedMessages entries={fetched.data.entries} channel={channel} trust={trust} />
      ) : (
        <PublicMessages entries={fetched.data.entries} channel={channel} trust={trust} />
      )}
    </FoundPanel>
  );
}

function TrustSummary({ trust, channelId }: { trust: Trust; channelId: string }) {
  if (trust.kind === 'agent')
    return (
      <>
        the key the agent reports{' '}
        <span className="muted">
          (this meter names no DID: that shows one key signed every message, not whose key it is)
        </span>
      </>
    );
  if (trust.kind !== 'did') return <code>{trust.did}</code>;
  const r = trust.resolution;
  const own = channelMethodOf(r, channelId);
  const current = r.versions.at(-1);
  return (
    <>
      the DID document of <code data-testid="did">{r.did}</code>{' '}
      <span className="muted">
        ({r.versions.length} version{r.versions.length === 1 ? '' : 's'} on the ledger; each message by the
        version in force at the milestone that referenced it)
      </span>
      {current?.deactivated && <span className="block reason reason-failed">The DID is deactivated.</span>}
      <span className="block">
        {own ? (
          <>
            The channel id is the hash of <code>{own}</code> in its first document: the channel is this DID’s.
          </>
        ) : (
          <span className="reason reason-failed">
            The channel id is the hash of no key in the DID’s first document: this channel is not the DID’s.
          </span>
        )}
      </span>
    </>
  );
}

/** Which DID to check against: the configured one, or any other (e.g. one a market message names). */
function DidForm({ current, onSubmit }: { current: MeterDid | undefined; onSubmit: (d: MeterDid) => void }) {
  const didId = useId();
  const [did, setDid] = useState(current?.did ?? '');
  const [origin, setOrigin] = useState(current?.originOutputId ?? '');
  const [error, setError] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ref = { did: did.trim(), originOutputId: origin.trim().toLowerCase() };
    if (!/^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/.test(ref.did))
      return setError('DID: an IOTA DID, did:iota:<hrp>:0x and 64 hex digits.');
    if (!/^0x[0-9a-f]{68}$/.test(ref.originOutputId))
      return setError('Alias origin: the output id that created the DID alias, 0x and 68 hex digits.');
    setError('');
    onSubmit(ref);
  };
  return (
    <details className="did-form" open={!current}>
      <summary>Check against a DID</summary>
      <form className="search" onSubmit={submit}>
        <label htmlFor={didId}>Meter DID</label>
        <input
          id={didId}
          value={did}
          onChange={(e) => setDid(e.target.value)}
          placeholder="did:iota:watt:0x…"
          spellCheck={false}
          autoComplete="off"
        />
        <SearchRow
          label="Alias origin output"
          button="Check"
          value={origin}
          onChange={(e) => setOrigin(e.target.value)}
          placeholder="0x… (68 hex digits)"
          spellCheck={false}
          autoComplete="off"
        />
        <p className="hint">
          The document is read from the ledger through the wallet-service, which finds the DID's alias from
          the output that created it.
        </p>
        {error && <InlineError>{error}</InlineError>}
      </form>
    </details>
  );
}

/** The channel's newest messages as fetched, and whose keys their signatures are checked against. */
interface MessagesProps {
  entries: SourceEntry[];
  channel: AgentChannelView;
  trust: CheckedTrust;
}

function PublicMessages({ entries, channel, trust }: MessagesProps) {
  const result = useMemo(() => read(entries, channel, trust), [entries, channel, trust]);
  return <ReadOutcome result={result} trust={trust} />;
}

function RestrictedMessages({ entries, channel, trust }: MessagesProps) {
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
    setOutcome({ result: read(entries, channel, trust, key) });
    key.fill(0);
  };
  return (
    <>
      <form className="search" onSubmit={submit}>
        <SearchRow
          label="Reader key"
          button="Decode"
          type="password"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="X25519 secret key, 64 hex digits"
          hint={{
            children: `${entries.length} sealed messages. The key decodes them here, in this page: it is never stored and never sent anywhere.`,
          }}
        />
      </form>
      {outcome?.error && <InlineError>{outcome.error}</InlineError>}
      {outcome?.result && <ReadOutcome result={outcome.result} trust={trust} />}
    </>
  );
}

/** Milli-units (mV, mA, mW) as whole units to three decimals. */
const thousandths = (milli: number) => (milli / 1000).toFixed(3);

/** A 32-byte key by its first 16 hex digits, whole in the title. */
function KeyPrefix({ hex }: { hex: string }) {
  return <code title={hex}>{hex.slice(0, 16)}…</code>;
}

function ReadOutcome({ result, trust }: { result: ReadResult; trust: CheckedTrust }) {
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
        <MessageRow
          key={m.seq}
          message={m}
          signer={
            trust.kind === 'did'
              ? {
                  did: trust.resolution.did,
                  method: didSignerOf(trust.resolution, m.keyId, m.milestoneIndex),
                }
              : { agentKey: trust.publicKey }
          }
        />
      ))}
    </section>
  );
}

type SignerNote = { did: string; method: DidSigner | undefined } | { agentKey: string };

function SignedBy({ signer }: { signer: SignerNote }) {
  if ('agentKey' in signer)
    return (
      <span className="muted block">
        signature checked against the agent’s key <KeyPrefix hex={signer.agentKey} />
      </span>
    );
  const m = signer.method;
  return (
    <span className="block" data-testid="signed-by">
      signed by <code>{m?.methodId ?? signer.did}</code>
      {m && (
        <>
          {' '}
          · key <KeyPrefix hex={m.publicKey} />{' '}
          <span className="muted">(document version of milestone {m.fromMilestone})</span>
        </>
      )}
    </span>
  );
}

function MessageRow({ message: m, signer }: { message: VerifiedMessage; signer: SignerNote }) {
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
      <SignedBy signer={signer} />
      {m.samples.length > 0 && (
        <DataTable
          caption={`First samples of message ${m.seq}`}
          rowHeader={false}
          rows={m.samples.slice(0, SAMPLE_ROWS)}
          rowKey={(s) => s.timestampMs}
          columns={[
            {
              header: 'Time',
              cell: (s) => <time dateTime={isoTime(s.timestampMs)}>{formatDateTime(s.timestampMs)}</time>,
            },
            { header: 'V', cell: (s) => thousandths(s.busVoltageMV) },
            { header: 'A', cell: (s) => thousandths(s.currentMA) },
            { header: 'W', cell: (s) => thousandths(s.powerMW) },
          ]}
        />
      )}
    </section>
  );
}

export default ChannelExplorer;
