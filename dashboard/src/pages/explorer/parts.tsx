import type { ReactNode } from 'react';
import type {
  AddressJson,
  FeatureJson,
  OutputJson,
  TaggedDataPayload,
  UnlockConditionJson,
} from '../../api/wallet';
import { Amount } from '../../components/Amount';
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

function UnixTime({ seconds, now }: { seconds: number | undefined; now: number }) {
  const ms = fromUnixSeconds(seconds);
  return (
    <>
      <time dateTime={isoTime(ms)}>{formatDateTime(ms)}</time>{' '}
      <span className="muted">({formatAge(now, ms)})</span>
    </>
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
  const t = ctx.token ? { token: ctx.token } : {};
  return (
    <ul className="conditions">
      {conditions.map((c, i) => {
        const key = `${c.type}-${i}`;
        switch (c.type) {
          case 0:
            return (
              <li key={key}>
                <strong>Owner</strong>: <AddressRef address={c.address} ctx={ctx} />
              </li>
            );
          case 1:
            return (
              <li key={key}>
                <strong>Storage deposit return</strong>: <Amount units={c.amount} inline {...t} /> goes back
                to <AddressRef address={c.returnAddress} ctx={ctx} /> when the owner spends it
              </li>
            );
          case 2:
            return (
              <li key={key}>
                <strong>Timelock</strong>: cannot be spent before{' '}
                <UnixTime seconds={c.unixTime} now={ctx.now} />
              </li>
            );
          case 3:
            return (
              <li key={key}>
                <strong>Expiration</strong>: from <UnixTime seconds={c.unixTime} now={ctx.now} /> it belongs
                to <AddressRef address={c.returnAddress} ctx={ctx} /> instead
              </li>
            );
          case 4:
            return (
              <li key={key}>
                <strong>State controller</strong>: <AddressRef address={c.address} ctx={ctx} />
              </li>
            );
          case 5:
            return (
              <li key={key}>
                <strong>Governor</strong>: <AddressRef address={c.address} ctx={ctx} />
              </li>
            );
          case 6:
            return (
              <li key={key}>
                <strong>Immutable alias</strong>: <AddressRef address={c.address} ctx={ctx} />
              </li>
            );
          default:
            return <li key={key}>Unknown condition (type {c.type})</li>;
        }
      })}
    </ul>
  );
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

export function Features({ features, ctx }: { features: FeatureJson[] | undefined; ctx: ViewContext }) {
  if (!features?.length) return null;
  return (
    <ul className="conditions">
      {features.map((f, i) => {
        const key = `${f.type}-${i}`;
        switch (f.type) {
          case 0:
            return (
              <li key={key}>
                <strong>Sender</strong>: <AddressRef address={f.address} ctx={ctx} />
              </li>
            );
          case 1:
            return (
              <li key={key}>
                <strong>Issuer</strong>: <AddressRef address={f.address} ctx={ctx} />
              </li>
            );
          case 2:
            return (
              <li key={key}>
                <strong>Metadata</strong>: <DecodedHex hex={f.data} label="Metadata" />
              </li>
            );
          case 3:
            return (
              <li key={key}>
                <strong>Tag</strong>: <TagText hex={f.tag} />
              </li>
            );
          default:
            return <li key={key}>Feature of type {f.type}</li>;
        }
      })}
    </ul>
  );
}

/** An output's contents: amount, conditions, features, tokens. */
export function OutputBody({ output, ctx }: { output: OutputJson; ctx: ViewContext }) {
  return (
    <dl className="kv">
      <dt>Kind</dt>
      <dd>{outputTypeName[output.type] ?? `Output type ${output.type}`}</dd>
      <dt>Amount</dt>
      <dd>
        <Amount units={output.amount} inline {...(ctx.token ? { token: ctx.token } : {})} />
      </dd>
      <dt>Unlock conditions</dt>
      <dd>
        <UnlockConditions conditions={output.unlockConditions} ctx={ctx} />
      </dd>
      {!!output.features?.length && (
        <>
          <dt>Features</dt>
          <dd>
            <Features features={output.features} ctx={ctx} />
          </dd>
        </>
      )}
      {!!output.immutableFeatures?.length && (
        <>
          <dt>Immutable features</dt>
          <dd>
            <Features features={output.immutableFeatures} ctx={ctx} />
          </dd>
        </>
      )}
      {!!output.nativeTokens?.length && (
        <>
          <dt>Native tokens</dt>
          <dd>
            <ul>
              {output.nativeTokens.map((t) => (
                <li key={t.id}>
                  <code title={t.id}>{shortId(t.id)}</code>: {BigInt(t.amount).toString()}
                </li>
              ))}
            </ul>
          </dd>
        </>
      )}
    </dl>
  );
}

export function TaggedData({ payload }: { payload: TaggedDataPayload }) {
  return (
    <dl className="kv">
      <dt>Tag</dt>
      <dd>
        <TagText hex={payload.tag} />
      </dd>
      <dt>Data</dt>
      <dd>
        <DecodedHex hex={payload.data} label="Tagged data" />
      </dd>
    </dl>
  );
}
