/**
 * Which Host names a household's local HTTP server answers. A web page the household visits can rebind its
 * own DNS name to 127.0.0.1 and then call a local service from the browser as "same origin"; the browser
 * still sends the page's name in Host, so answering only known names stops it.
 *
 * Default names: localhost, 127.0.0.1, [::1] and the address the server is bound to, each with the server's
 * port (or without one when the port is 80). Extra entries: "name" (any port) or "name:port".
 */
export interface HostRule {
  /** The address the server listens on, e.g. 127.0.0.1 (a wildcard 0.0.0.0 or :: adds no name). */
  boundHost: string;
  /** Further names the server answers, e.g. "pi.local" or "192.168.1.20:8480". */
  allowedHosts?: readonly string[];
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** A Host value split into its name (IPv6 keeps its brackets) and port; undefined if it is not one. */
export function splitHost(value: string): { name: string; port?: number } | undefined {
  const host = value.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._~%!$&'()*+,;=-]+)(?::([0-9]{1,5}))?$/.exec(host);
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65_535) return undefined;
  return port === undefined ? { name: match[1]! } : { name: match[1]!, port };
}

function nameOf(boundHost: string): string | undefined {
  const h = boundHost.trim().toLowerCase();
  if (h === '' || h === '0.0.0.0' || h === '::' || h === '[::]') return undefined;
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/** Whether a request's Host header names this server (listening on `localPort`). */
export function hostAllowed(header: string | undefined, localPort: number, rule: HostRule): boolean {
  if (!header) return false;
  const host = splitHost(header);
  if (!host) return false;
  const port = host.port ?? 80;
  const bound = nameOf(rule.boundHost);
  if (port === localPort && (LOOPBACK_NAMES.includes(host.name) || host.name === bound)) return true;
  for (const entry of rule.allowedHosts ?? []) {
    const allowed = splitHost(entry);
    if (!allowed || allowed.name !== host.name) continue;
    if (allowed.port === undefined || allowed.port === port) return true;
  }
  return false;
}

/** The one-line JSON error a server answers a foreign Host with (status 421 Misdirected Request). */
export function misdirectedBody(header: string | undefined): {
  error: { code: string; message: string; field: string };
} {
  const shown = (header ?? '').slice(0, 100);
  return {
    error: {
      code: 'MISDIRECTED_REQUEST',
      message: `Host "${shown}" is not a name of this server: use localhost or add it to allowedHosts`,
      field: 'host',
    },
  };
}
