import { lazy, Suspense, useEffect, useState } from 'react';
import { type DashboardConfig, loadConfig } from './api/config';
import { ErrorMessage, Loading } from './components/states';
import { ServicesProvider } from './context';
import { NetworkPage } from './pages/NetworkPage';
import { type Page, pages, parseHash, useHash } from './router';

// The first route (Network) is in the entry chunk; the others load when visited.
const MetersPage = lazy(() => import('./pages/MetersPage').then((m) => ({ default: m.MetersPage })));
const PaymentsPage = lazy(() => import('./pages/PaymentsPage').then((m) => ({ default: m.PaymentsPage })));
const BillsPage = lazy(() => import('./pages/BillsPage').then((m) => ({ default: m.BillsPage })));
const MarketPage = lazy(() => import('./pages/MarketPage').then((m) => ({ default: m.MarketPage })));
const ExplorerPage = lazy(() => import('./pages/ExplorerPage').then((m) => ({ default: m.ExplorerPage })));

function Nav({ current }: { current: Page }) {
  return (
    <nav aria-label="Main">
      <ul>
        {pages.map((p) => (
          <li key={p.page}>
            <a href={`#/${p.page}`} aria-current={p.page === current ? 'page' : undefined}>
              {p.title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function App({ config: given }: { config?: DashboardConfig }) {
  const hash = useHash();
  const route = parseHash(hash);
  const [config, setConfig] = useState<DashboardConfig | undefined>(given);
  const [error, setError] = useState<unknown>(undefined);
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: attempt is the retry trigger
  useEffect(() => {
    if (given) return;
    let live = true;
    setError(undefined);
    loadConfig().then(
      (c) => live && setConfig(c),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [given, attempt]);

  return (
    <>
      {/* A button, not a link: the hash belongs to the router. */}
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header className="app-header">
        <a className="brand" href="#/network">
          <span aria-hidden="true">⚡</span> TangleWatt
        </a>
        <Nav current={route.page} />
      </header>
      <main id="main" tabIndex={-1}>
        {config ? (
          <ServicesProvider config={config}>
            <Suspense fallback={<Loading what="page" />}>
              {route.page === 'network' && <NetworkPage />}
              {route.page === 'meters' && <MetersPage />}
              {route.page === 'payments' && <PaymentsPage />}
              {route.page === 'bills' && <BillsPage />}
              {route.page === 'market' && <MarketPage household={route.query} />}
              {route.page === 'explorer' && <ExplorerPage query={route.query} />}
            </Suspense>
          </ServicesProvider>
        ) : error ? (
          <ErrorMessage
            error={error}
            what="the dashboard's configuration"
            retry={() => setAttempt((a) => a + 1)}
          />
        ) : (
          <Loading what="configuration" />
        )}
      </main>
    </>
  );
}
