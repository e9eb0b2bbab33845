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
  /**
   * A meter's DID and the output that created its alias: the explorer checks the meter's channel
   * signatures against the keys its DID document lists.
   */
  did?: MeterDid;
}

export interface MeterDid {
  did: string;
  originOutputId: string;
}

const DID = /^did:iota:(?:[a-z0-9]{1,6}:)?0x[0-9a-f]{64}$/;
const OUTPUT_ID = /^0x[0-9a-f]{68}$/;

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
    if (e.did !== undefined) {
      const d = e.did as Partial<MeterDid> | null;
      if (!d || typeof d.did !== 'string' || !DID.test(d.did))
        throw new Error(`config.json: ${key}[${i}].did.did must be an IOTA DID, did:iota:<hrp>:0x<alias id>`);
      if (typeof d.originOutputId !== 'string' || !OUTPUT_ID.test(d.originOutputId))
        throw new Error(
          `config.json: ${key}[${i}].did.originOutputId must be the output that created the DID alias (0x and 68 hex digits)`,
        );
      endpoint.did = { did: d.did, originOutputId: d.originOutputId };
    }
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
