import { useSyncExternalStore } from 'react';

export type Page = 'network' | 'meters' | 'payments' | 'explorer';

export interface Route {
  page: Page;
  /** The explorer's query, from `#/explorer/<query>`. */
  query: string;
}

export const pages: { page: Page; title: string }[] = [
  { page: 'network', title: 'Network' },
  { page: 'meters', title: 'Meters' },
  { page: 'payments', title: 'Payments' },
  { page: 'explorer', title: 'Explorer' },
];

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const rest = slash < 0 ? '' : path.slice(slash + 1);
  const page = pages.find((p) => p.page === head)?.page ?? 'network';
  let query = '';
  if (page === 'explorer') {
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
