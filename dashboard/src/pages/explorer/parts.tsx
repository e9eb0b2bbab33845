import type { ReactNode } from 'react';
import type {
  AddressJson,
  ExplorerSource,
  FeatureJson,
  OutputJson,
  TaggedDataPayload,
  UnlockConditionJson,
} from '../../api/wallet';
import { Amount } from '../../components/Amount';
import { SourceBadge } from '../../components/SourceBadge';
import { Term } from '../../components/Term';
import type { TokenInfo } from '../../format/amount';
import { AddressType, addressToBech32 } from '../../format/bech32';
import { decodeData, hexToUtf8 } from '../../format/hex';
import { shortAddress, shortId } from '../../format/ids';
import { formatAge, formatDateTime, fromUnixSeconds, isoTime } from '../../format/time';
import { explorerHref } from '../../router';

export interface ViewContext {
  hrp: string | undefined;
  token: TokenInfo | undefined;
  now: number;
}

export const outputTypeName: Record<number, string> = {
  3: 'Basic output',
  4: 'Alias output',
  5: 'Foundry output',
  6: 'NFT output',
};

/** A copyable full id, for the thing the page is about. */
export function FullId({ id }: { id: string }) {
  return <code className="full-id">{id}</code>;
}

/** The panel for what a search found: its heading, the full id, then the details. */
export function FoundPanel({
  title,
  id,
  source,
  children,
}: {
  title: string;
  id: string | undefined;
  /** Where the answer came from, when the wallet-service said. */
  source?: ExplorerSource | undefined;
  children: ReactNode;
}) {
  return (
    <article className="panel" aria-labelledby="found-heading">
      <h2 id="found-heading">{title}</h2>
      {source && (
        <p>
          <SourceBadge source={source} />
        </p>
      )}
      {id && (
        <p>
          <FullId id={id} />
        </p>
      )}
      {children}
    </article>
  );
}

/** A link to any id, shortened, whole in the title. */
export function Ref({ id, children }: { id: string; children?: ReactNode }) {
  return (
    <a href={explorerHref(id)} title={id}>
      {children ?? <code>{id.startsWith('0x') ? shortId(id, 10, 8) : shortAddress(id)}</code>}
    </a>
  );
}

export function AddressRef({ address, ctx }: { address: AddressJson | undefined; ctx: ViewContext }) {
  if (!address) return <span className="muted">—</span>;
  const kind =
    address.type === AddressType.Ed25519
      ? 'Ed25519'
      : address.type === AddressType.Alias
        ? 'alias'
        : address.type === AddressType.Nft
          ? 'NFT'
          : `type ${address.type}`;
  const bech32 = ctx.hrp ? addressToBech32(address, ctx.hrp) : undefined;
  const hex = address.pubKeyHash ?? address.aliasId ?? address.nftId ?? '';
  return (
    <span>
      {bech32 ? (
        <a href={explorerHref(bech32)} title={`${bech32}\n${kind} ${hex}`}>
          <code>{shortAddress(bech32, 8, 8)}</code>
        </a>
      ) : (
        <code title={hex}>{shortId(hex, 10, 8)}</code>
      )}{' '}
      <span className="muted">({kind})</span>
    </span>
  );
}

/** A ledger time (unix seconds) and how long ago it was. */
export function When({ seconds, now }: { seconds: number | undefined; now: number }) {
  const ms = fromUnixSeconds(seconds);
  return (
    <>
      <time dateTime={isoTime(ms)}>{formatDateTime(ms)}</time>{' '}
      <span className="muted">({formatAge(now, ms)})</span>
    </>
  );
}

/** One condition or feature: its name in bold, then what it says. */
function Labelled({ name, children }: { name: string; children: ReactNode }) {
  return (
    <>
      <strong>{name}</strong>: {children}
    </>
  );
}

const addressConditions: Record<number, string> = {
  0: 'Owner',
  4: 'State controller',
  5: 'Governor',
  6: 'Immutable alias',
};

function Condition({ condition: c, ctx }: { condition: UnlockConditionJson; ctx: ViewContext }) {
  const named = addressConditions[c.type];
  if (named)
    return (
      <Labelled name={named}>
        <AddressRef address={c.address} ctx={ctx} />
      </Labelled>
    );
  if (c.type === 1)
    return (
      <Labelled name="Storage deposit return">
        <Amount units={c.amount} inline {...(ctx.token ? { token: ctx.token } : {})} /> goes back to{' '}
        <AddressRef address={c.returnAddress} ctx={ctx} /> when the owner spends it
      </Labelled>
    );
  if (c.type === 2)
    return (
      <Labelled name="Timelock">
        cannot be spent before <When seconds={c.unixTime} now={ctx.now} />
      </Labelled>
    );
  if (c.type === 3)
    return (
      <Labelled name="Expiration">
        from <When seconds={c.unixTime} now={ctx.now} /> it belongs to{' '}
        <AddressRef address={c.returnAddress} ctx={ctx} /> instead
      </Labelled>
    );
  return <>Unknown condition (type {c.type})</>;
}

/** Unlock conditions or features, in their order: they are positional, so keyed by type and place. */
function TypedList<T extends { type: number }>({
  items,
  render,
}: {
  items: T[];
  render: (item: T) => ReactNode;
}) {
  return (
    <ul className="conditions">
      {items.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: conditions and features are positional
        <li key={`${item.type}-${i}`}>{render(item)}</li>
      ))}
    </ul>
  );
}

/** Unlock conditions in words: who may spend the output, and under what terms. */
export function UnlockConditions({
  conditions,
  ctx,
}: {
  conditions: UnlockConditionJson[] | undefined;
  ctx: ViewContext;
}) {
  if (!conditions?.length) return <span className="muted">none</span>;
  return <TypedList items={conditions} render={(c) => <Condition condition={c} ctx={ctx} />} />;
}

/** Hex data as text, or pretty JSON when it parses, with the raw hex a click away. */
export function DecodedHex({ hex, label }: { hex: string | undefined; label: string }) {
  if (!hex || hex === '0x') return <span className="muted">empty</span>;
  const d = decodeData(hex);
  return (
    <div className="decoded">
      {d.json !== undefined ? (
        <pre title={`${label} as JSON`}>{d.json}</pre>
      ) : d.text !== undefined ? (
        <pre title={`${label} as text`}>{d.text}</pre>
      ) : (
        <p className="muted">{d.bytes} bytes of binary data</p>
      )}
      <details>
        <summary>Raw hex ({d.bytes} bytes)</summary>
        <code className="full-id">{hex}</code>
      </details>
    </div>
  );
}

export function TagText({ hex }: { hex: string | undefined }) {
  if (!hex) return <span className="muted">none</span>;
  const text = hexToUtf8(hex);
  return text !== undefined ? (
    <span>
      <code>{text}</code>{' '}
      <span className="muted" title={hex}>
        (hex {shortId(hex, 8, 4)})
      </span>
    </span>
  ) : (
    <code>{hex}</code>
  );
}

function Feature({ feature: f, ctx }: { feature: FeatureJson; ctx: ViewContext }) {
  if (f.type === 0 || f.type === 1)
    return (
      <Labelled name={f.type === 0 ? 'Sender' : 'Issuer'}>
        <AddressRef address={f.address} ctx={ctx} />
      </Labelled>
    );
  if (f.type === 2)
    return (
      <Labelled name="Metadata">
        <DecodedHex hex={f.data} label="Metadata" />
      </Labelled>
    );
  if (f.type === 3)
    return (
      <Labelled name="Tag">
        <TagText hex={f.tag} />
      </Labelled>
    );
  return <>Feature of type {f.type}</>;
}

export function Features({ features, ctx }: { features: FeatureJson[] | undefined; ctx: ViewContext }) {
  if (!features?.length) return null;
  return <TypedList items={features} render={(f) => <Feature feature={f} ctx={ctx} />} />;
}

/** An output's contents: amount, conditions, features, tokens. */
export function OutputBody({ output, ctx }: { output: OutputJson; ctx: ViewContext }) {
  return (
    <dl className="kv">
      <Term name="Kind">{outputTypeName[output.type] ?? `Output type ${output.type}`}</Term>
      <Term name="Amount">
        <Amount units={output.amount} inline {...(ctx.token ? { token: ctx.token } : {})} />
      </Term>
      <Term name="Unlock conditions">
        <UnlockConditions conditions={output.unlockConditions} ctx={ctx} />
      </Term>
      {!!output.features?.length && (
        <Term name="Features">
          <Features features={output.features} ctx={ctx} />
        </Term>
      )}
      {!!output.immutableFeatures?.length && (
        <Term name="Immutable features">
          <Features features={output.immutableFeatures} ctx={ctx} />
        </Term>
      )}
      {!!output.nativeTokens?.length && (
        <Term name="Native tokens">
          <ul>
            {output.nativeTokens.map((t) => (
              <li key={t.id}>
                <code title={t.id}>{shortId(t.id)}</code>: {BigInt(t.amount).toString()}
              </li>
            ))}
          </ul>
        </Term>
      )}
    </dl>
  );
}

export function TaggedData({ payload }: { payload: TaggedDataPayload }) {
  return (
    <dl className="kv">
      <Term name="Tag">
        <TagText hex={payload.tag} />
      </Term>
      <Term name="Data">
        <DecodedHex hex={payload.data} label="Tagged data" />
      </Term>
    </dl>
  );
}
