import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostAllowed, misdirectedBody } from '@tanglewatt/contract';

/** The dashboard's directory and its `vite build` output. */
export const dashboardDir = dirname(fileURLToPath(import.meta.url));
export const distDir = join(dashboardDir, 'dist');

export interface DashboardEndpoint {
  name: string;
  url: string;
  /**
   * A wallet-service token with scopes `read` (reads and the live feed need it) and `market` (the page posts
   * market messages with it), never `pay`: config.json carries it to the page without a token of its own.
   * Only for the household's own dashboard on its own machine (npm start).
   */
  token?: string;
}

/** What the page fetches as ./config.json. The first wallet is also the explorer's source. */
export interface DashboardConfig {
  wallets: DashboardEndpoint[];
  meters: DashboardEndpoint[];
}

export interface ServeOptions {
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  config: DashboardConfig;
  /** The built app; default dashboard/dist. */
  root?: string;
  /**
   * Host names answered besides localhost, 127.0.0.1, [::1] and `host`, each with the port ("name" or
   * "name:port"); any other Host gets 421, so a page that rebinds its DNS name to this address reads nothing.
   */
  allowedHosts?: string[];
}

export interface ServedDashboard {
  url: string;
  close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** The page may talk to its own origin and to the configured services (reads and the market's POSTs), nothing else. */
function contentSecurityPolicy(config: DashboardConfig): string {
  const origins = new Set<string>();
  for (const e of [...config.wallets, ...config.meters]) {
    try {
      origins.add(new URL(e.url).origin);
    } catch {
      // A bad URL is the page's to report; it gets no exception here.
    }
  }
  return [
    "default-src 'self'",
    `connect-src 'self' ${[...origins].join(' ')}`.trim(),
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function fileAt(path: string): Promise<{ size: number } | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the built dashboard: static files with their content types, index.html for any other
 * path (the app routes by hash, but deep links with a path still land on the app), and
 * /config.json from `config`. Paths outside the build directory are never served.
 */
export async function serveDashboard(options: ServeOptions): Promise<ServedDashboard> {
  const host = options.host ?? '127.0.0.1';
  const root = resolve(options.root ?? distDir);
  const index = join(root, 'index.html');
  if (!(await fileAt(index)))
    throw new Error(
      `dashboard: ${index} is missing; build it first (buildDashboard(), or npx vite build in dashboard/)`,
    );
  const configBody = `${JSON.stringify(options.config, null, 2)}\n`;
  const security = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': contentSecurityPolicy(options.config),
  };

  const send = async (
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    size: number,
    cache: string,
  ) => {
    res.writeHead(200, {
      ...security,
      'content-type': contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': cache,
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const fail = (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...security, ...extra, 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${message}\n`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const hostRule = { boundHost: host, allowedHosts: options.allowedHosts ?? [] };
    if (!hostAllowed(req.headers.host, req.socket.localPort ?? 0, hostRule)) {
      res.writeHead(421, { ...security, 'content-type': 'application/json; charset=utf-8' });
      return void res.end(`${JSON.stringify(misdirectedBody(req.headers.host))}\n`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return fail(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return fail(res, 400, 'bad path');
    }
    if (pathname.includes('\0')) return fail(res, 400, 'bad path');
    if (pathname === '/config.json') {
      res.writeHead(200, {
        ...security,
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      return void res.end(req.method === 'HEAD' ? undefined : configBody);
    }
    const file = resolve(root, `.${pathname}`);
    if (file !== root && !file.startsWith(root + sep)) return fail(res, 403, 'forbidden');
    const found = pathname.endsWith('/') ? undefined : await fileAt(file);
    if (found) {
      // Vite names assets by content hash: they never change under one name.
      const immutable = pathname.startsWith('/assets/');
      return send(req, res, file, found.size, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    // A missing asset is a 404; anything else is a page of the app.
    if (
      pathname.startsWith('/assets/') ||
      (/\.[a-z0-9]{1,8}$/i.test(pathname) && !pathname.endsWith('.html'))
    )
      return fail(res, 404, 'not found');
    const indexFile = await fileAt(index);
    if (!indexFile) return fail(res, 500, 'index.html is missing');
    return send(req, res, index, indexFile.size, 'no-cache');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) fail(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((ready, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      ready();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((done, reject) => {
        server.close((error) => (error ? reject(error) : done()));
        server.closeAllConnections();
      }),
  };
}

/** Builds dashboard/dist with the dashboard's own vite config (vite is loaded only when building). */
export async function buildDashboard(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(dashboardDir, 'vite.config.ts'), root: dashboardDir, logLevel: 'warn' });
}
