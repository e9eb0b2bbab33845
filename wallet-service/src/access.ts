import { createHash, timingSafeEqual } from 'node:crypto';
import { hostAllowed, misdirectedBody } from '@tanglewatt/contract';
import type { NextFunction, Request, Response } from 'express';
import { type ApiScope, apiScopes, type WalletConfig } from './config.js';
import { SecretError } from './errors.js';
import { errorBody, HTTP_STATUS } from './http-errors.js';
import { readSecret } from './secrets.js';

/** A bearer token the API accepts and what it may do. */
export interface ApiToken {
  /** Shown in logs; the secret never is. */
  name: string;
  secret: string;
  scopes: readonly ApiScope[];
}

/** What each route needs: a scope, or nothing (public). */
export type RouteAccess = ApiScope | 'public';

/**
 * The API's tokens from the config: the single `tokenEnv`/`tokenFile` token (every scope) when it is set or
 * when no `tokens` are listed, then each listed token. Two tokens with one secret are refused: which
 * scopes it had would depend on the order.
 */
export function readApiTokens(api: WalletConfig['api']): ApiToken[] {
  const tokens: ApiToken[] = [];
  const legacySet = Boolean(api.tokenFile) || Boolean(api.tokenEnv && process.env[api.tokenEnv]);
  if (legacySet || api.tokens.length === 0) {
    tokens.push({
      name: 'api',
      secret: readSecret('api token', {
        env: api.tokenEnv,
        ...(api.tokenFile ? { file: api.tokenFile } : {}),
      }),
      scopes: apiScopes,
    });
  }
  for (const [i, t] of api.tokens.entries()) {
    tokens.push({
      name: t.name,
      secret: readSecret(`api.tokens[${i}] (${t.name})`, {
        ...(t.env ? { env: t.env } : {}),
        ...(t.file ? { file: t.file } : {}),
      }),
      scopes: [...new Set(t.scopes)],
    });
  }
  for (const [i, t] of tokens.entries()) {
    const twin = tokens.findIndex((o) => o.secret === t.secret);
    if (twin !== i)
      throw new SecretError(
        `api token "${t.name}" has the same secret as "${tokens[twin]!.name}": give each its own`,
      );
  }
  return tokens;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** Finds the token a request presents, comparing digests in constant time. */
export class TokenBook {
  private readonly entries: { digest: Buffer; token: ApiToken }[];

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((token) => ({ digest: sha256(token.secret), token }));
  }

  /** The token with this secret, if any. Every entry is compared, so the time says nothing about which. */
  find(presented: string): ApiToken | undefined {
    if (!presented) return undefined;
    const digest = sha256(presented);
    let found: ApiToken | undefined;
    for (const e of this.entries) if (timingSafeEqual(digest, e.digest)) found = e.token;
    return found;
  }
}

/**
 * Express middleware: 401 without a known bearer token, 403 when its token lacks `scope`. Stream routes
 * (server-sent events) also take the token as `?access_token=` (RFC 6750 §2.3): EventSource cannot send
 * headers, and a ticket that expires would break the browser's own reconnects.
 */
export function requireScope(book: TokenBook, scope: ApiScope, options: { stream?: boolean } = {}) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    let presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!presented && options.stream && typeof req.query.access_token === 'string')
      presented = req.query.access_token;
    const token = book.find(presented);
    if (!token) {
      res.set('www-authenticate', `Bearer scope="${scope}"`);
      return void res
        .status(HTTP_STATUS.UNAUTHORIZED)
        .json(
          errorBody(
            'UNAUTHORIZED',
            `missing or unknown bearer token in the Authorization header${options.stream ? ' (or ?access_token=)' : ''}`,
            'authorization',
          ),
        );
    }
    if (!token.scopes.includes(scope)) {
      res.set('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
      return void res
        .status(HTTP_STATUS.FORBIDDEN)
        .json(
          errorBody('FORBIDDEN', `this token lacks the scope "${scope}" this route needs`, 'authorization'),
        );
    }
    next();
  };
}

/** Express middleware: 421 unless the Host header names this server (see hostAllowed). */
export function requireKnownHost(boundHost: string, allowedHosts: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.host;
    if (hostAllowed(header, req.socket.localPort ?? 0, { boundHost, allowedHosts })) return next();
    res.status(HTTP_STATUS.MISDIRECTED_REQUEST).json(misdirectedBody(header));
  };
}
