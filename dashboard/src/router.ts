import { useSyncExternalStore } from 'react';

export type Page = 'network' | 'meters' | 'payments' | 'bills' | 'market' | 'explorer';

export interface Route {
  page: Page;
  /** The explorer's query, from `#/explorer/<query>`; the market's household, from `#/market/<name>`. */
  query: string;
}

export const pages: { page: Page; title: string }[] = [
  { page: 'network', title: 'Network' },
  { page: 'meters', title: 'Meters' },
  { page: 'payments', title: 'Payments' },
  { page: 'bills', title: 'Bills' },
  { page: 'market', title: 'Market' },
  { page: 'explorer', title: 'Explorer' },
];

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const rest = slash < 0 ? '' : path.slice(slash + 1);
  const page = pages.find((p) => p.page === head)?.page ?? 'network';
  let query = '';
  if (page === 'explorer' || page === 'market') {
    try {
      query = decodeURIComponent(rest);
    } catch {
      query = rest;
    }
  }
  return { page, query };
}

export function explorerHref(query: string | number): string {
  return `#/explorer/${encodeURIComponent(String(query))}`;
}

/** The market as one household sees it (by its wallet's name in config.json); none: the default one. */
export function marketHref(household?: string): string {
  return household ? `#/market/${encodeURIComponent(household)}` : '#/market';
}

const subscribe = (notify: () => void) => {
  window.addEventListener('hashchange', notify);
  return () => window.removeEventListener('hashchange', notify);
};

export function useHash(): string {
  return useSyncExternalStore(
    subscribe,
    () => window.location.hash,
    () => '',
  );
}
