import { type FormEvent, lazy, Suspense, useEffect, useState } from 'react';
import { SearchRow } from '../components/SearchRow';
import { SyncNotice } from '../components/SyncNotice';
import { Empty, ErrorMessage, InlineError, Loading } from '../components/states';
import { useServices } from '../context';
import { useProtocol } from '../hooks/useProtocol';
import { useNow, useResource } from '../hooks/useResource';
import { explorerHref } from '../router';
import { BlockView, MilestoneView } from './explorer/block';
import { classifyQuery, describeQuery } from './explorer/classify';
import { AddressView, OutputView } from './explorer/ledger';
import type { ViewContext } from './explorer/parts';
import { resolveQuery } from './explorer/resolve';
import { VerifyPanel } from './explorer/VerifyPanel';
import { PageHeading } from './PageHeading';

/** The channel view brings the channel codecs and crypto: loaded only when a channel is shown. */
const ChannelExplorer = lazy(() => import('./explorer/ChannelExplorer'));

export function ExplorerPage({ query }: { query: string }) {
  const { wallets } = useServices();
  const [text, setText] = useState(query);
  useEffect(() => setText(query), [query]);
  const typed = classifyQuery(text);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = text.trim();
    if (q) window.location.hash = explorerHref(q);
  };

  return (
    <>
      <PageHeading title="Explorer" />
      {wallets[0] && <SyncNotice client={wallets[0].client} name={wallets[0].endpoint.name} />}
      <search>
        <form className="search" onSubmit={submit}>
          <SearchRow
            label="Search the tangle"
            button="Search"
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="block, transaction, milestone or output id · address · milestone index · channel id"
            hint={{
              className: `hint ${typed.kind === 'invalid' ? 'hint-error' : ''}`,
              'aria-live': 'polite',
              children:
                typed.kind === 'empty'
                  ? 'Ids are 0x and 64 hex digits (block, transaction, milestone) or 68 (output); addresses are bech32; channel ids are 64 hex digits, or channel: and 64 hex digits.'
                  : `${typed.kind === 'invalid' ? 'Not searchable: ' : 'Looks like '}${describeQuery(typed)}.`,
            }}
          />
        </form>
      </search>
      {wallets[0] ? (
        query ? (
          <Result key={query} query={query} />
        ) : (
          <Empty>Enter an id, an address or a milestone index; or follow any link on the other pages.</Empty>
        )
      ) : (
        <Empty>No wallet-service is configured: the explorer reads the tangle through one.</Empty>
      )}
      {wallets[0] && <VerifyPanel sources={wallets[0].client} />}
    </>
  );
}

function Result({ query }: { query: string }) {
  const { wallets, meters } = useServices();
  const client = wallets[0]!.client;
  const protocol = useProtocol(client);
  const now = useNow(5000);
  const q = classifyQuery(query);
  const channelMeters = meters.map((m) => ({
    name: m.endpoint.name,
    url: m.endpoint.url,
    status: m.client.status,
  }));
  const found = useResource(
    (signal) => resolveQuery(client, q, signal, channelMeters),
    `${client.url}|${query}`,
  );
  const ctx: ViewContext = { hrp: protocol?.hrp, token: protocol?.token, now };

  if (q.kind === 'invalid')
    return (
      <InlineError>
        “{query}” is {q.reason}.
      </InlineError>
    );
  if (found.loading) return <Loading what={describeQuery(q)} />;
  const r = found.data;
  if (!r) return <ErrorMessage error={found.error} what={describeQuery(q)} retry={found.reload} />;
  switch (r.kind) {
    case 'block':
      return (
        <BlockView
          title="Block"
          blockId={r.blockId}
          transactionId={r.transactionId}
          block={r.block}
          metadata={r.metadata}
          source={r.source}
          ctx={ctx}
        />
      );
    case 'transaction':
      return (
        <BlockView
          title="Transaction"
          blockId={r.metadata?.blockId}
          transactionId={r.transactionId}
          block={r.block}
          metadata={r.metadata}
          source={r.source}
          ctx={ctx}
        />
      );
    case 'milestone':
      return (
        <MilestoneView milestone={r.milestone} milestoneId={r.milestoneId} source={r.source} ctx={ctx} />
      );
    case 'output':
      return <OutputView outputId={r.outputId} output={r.output} source={r.source} ctx={ctx} />;
    case 'address':
      return <AddressView address={r.address} outputs={r.outputs} ctx={ctx} />;
    case 'channel': {
      const meter = meters.find((m) => m.endpoint.url === r.meter.url);
      return (
        <Suspense fallback={<Loading what="the channel reader" />}>
          <ChannelExplorer
            channelId={r.channelId}
            meter={r.meter}
            channel={r.channel}
            channelBlocks={(limit, o) =>
              meter ? meter.client.channelBlocks(limit, o) : Promise.reject(new Error('meter gone'))
            }
            block={client.block}
            blockMetadata={client.blockMetadata}
            resolveDid={client.did}
            {...(meter?.endpoint.did ? { did: meter.endpoint.did } : {})}
          />
        </Suspense>
      );
    }
    case 'notFound':
      return (
        <div className="state state-empty" role="status">
          <p>
            <strong>Not found.</strong> {r.message}
          </p>
          <button type="button" onClick={found.reload}>
            Look again
          </button>
        </div>
      );
    case 'unavailable':
      return (
        <p className="state state-empty" role="status">
          {r.message}
        </p>
      );
  }
}
