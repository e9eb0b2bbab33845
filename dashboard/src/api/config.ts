import { ApiError, getJson } from './http';

/** The runtime config the page fetches at start (served from the same origin). */
export interface Endpoint {
  name: string;
  url: string;
  /**
   * A wallet-service token with scopes read and market (never pay), for the household's own wallet on the
   * household's own machine only (`npm start` sets it): the page reads with it (the service needs a token
   * for reads too, and the live feed takes it as ?access_token=) and posts market messages with it.
   */
  token?: string;
}

export interface DashboardConfig {
  wallets: Endpoint[];
  meters: Endpoint[];
}

function endpoints(raw: unknown, key: string): Endpoint[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error(`config.json: "${key}" must be a list of { name, url }`);
  return raw.map((item, i) => {
    const e = item as Partial<Endpoint> | null;
    if (!e || typeof e.name !== 'string' || typeof e.url !== 'string')
      throw new Error(`config.json: ${key}[${i}] needs a "name" and a "url"`);
    if (e.token !== undefined && typeof e.token !== 'string')
      throw new Error(`config.json: ${key}[${i}].token must be a string`);
    let url: URL;
    try {
      url = new URL(e.url, globalThis.location?.href);
    } catch {
      throw new Error(`config.json: ${key}[${i}].url is not a URL: ${e.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`config.json: ${key}[${i}].url must be http(s): ${e.url}`);
    const endpoint: Endpoint = { name: e.name, url: url.href.replace(/\/+$/, '') };
    if (e.token) endpoint.token = e.token;
    return endpoint;
  });
}

export function parseConfig(raw: unknown): DashboardConfig {
  if (!raw || typeof raw !== 'object') throw new Error('config.json: not a JSON object');
  const r = raw as Record<string, unknown>;
  return { wallets: endpoints(r.wallets, 'wallets'), meters: endpoints(r.meters, 'meters') };
}

export async function loadConfig(href = './config.json'): Promise<DashboardConfig> {
  const base = new URL(href, globalThis.location?.href ?? 'http://localhost/');
  try {
    return parseConfig(await getJson<unknown>(base.origin, base.pathname + base.search, { timeoutMs: 5000 }));
  } catch (error) {
    if (error instanceof ApiError) throw new Error(`could not load config.json: ${error.message}`);
    throw error;
  }
}
