import { useEffect, useState } from 'react';
import type { WalletClient } from '../api/wallet';
import { DEFAULT_TOKEN, type TokenInfo } from '../format/amount';

export interface Protocol {
  networkName: string;
  hrp: string;
  token: TokenInfo;
}

/** The network's name, address prefix and token never change while the page is open: ask once per node. */
const cache = new Map<string, Promise<Protocol>>();

export function loadProtocol(client: WalletClient): Promise<Protocol> {
  let p = cache.get(client.url);
  if (!p) {
    p = client.nodeInfo().then((info) => ({
      networkName: info.protocol.networkName,
      hrp: info.protocol.bech32Hrp,
      token: {
        decimals: info.baseToken.decimals,
        ticker: info.baseToken.tickerSymbol || DEFAULT_TOKEN.ticker,
      },
    }));
    // A failure is not cached: the next caller asks again.
    p.catch(() => cache.delete(client.url));
    cache.set(client.url, p);
  }
  return p;
}

/** The protocol, or undefined until known (callers fall back to 6 decimals and hex addresses). */
export function useProtocol(client: WalletClient | undefined): Protocol | undefined {
  const [protocol, setProtocol] = useState<Protocol | undefined>(undefined);
  useEffect(() => {
    if (!client) return;
    let live = true;
    const attempt = () =>
      loadProtocol(client).then(
        (p) => live && setProtocol(p),
        () => live && setTimeout(attempt, 5000),
      );
    void attempt();
    return () => {
      live = false;
    };
  }, [client]);
  return protocol;
}
