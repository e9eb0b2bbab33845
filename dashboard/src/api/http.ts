/** One error type for every backend: what went wrong, with the service's code and message when it sent one. */
export type ApiErrorKind = 'network' | 'timeout' | 'http' | 'parse' | 'aborted';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly url: string,
    readonly status?: number,
    /** The service's stable error code (e.g. NOT_FOUND, NODE_UNREACHABLE), when it answered with one. */
    readonly code?: string,
    readonly field?: string,
  ) {
    super(message);
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  /** The service is up but its node is not (or the service itself cannot be reached). */
  get unreachable(): boolean {
    return this.kind === 'network' || this.kind === 'timeout' || this.code === 'NODE_UNREACHABLE';
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** A sentence for people, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/** GET a JSON document; every failure becomes an ApiError. */
export function getJson<T>(base: string, path: string, options: PostOptions = {}): Promise<T> {
  return requestJson<T>('GET', base, path, undefined, options);
}

/** GET a JSON document with the answer's headers (a header saying where the answer came from, say). */
export async function getJsonWithHeaders<T>(
  base: string,
  path: string,
  options: PostOptions = {},
): Promise<{ body: T; headers: Headers }> {
  const answer = await requestText('GET', base, path, undefined, options, 'application/json');
  return { body: parseJson<T>(answer), headers: answer.headers };
}

export interface PostOptions extends RequestOptions {
  /** Sent as `Authorization: Bearer <token>`: the wallet-service's routes need it (reads too). */
  token?: string;
}

/** POST a JSON body and read the JSON answer; every failure becomes an ApiError (400s keep their field). */
export function postJson<T>(
  base: string,
  path: string,
  body: unknown,
  options: PostOptions = {},
): Promise<T> {
  return requestJson<T>('POST', base, path, body, options);
}

/** GET a text document (a CSV export, say), asking for `accept`; failures as getJson's. */
export function getText(
  base: string,
  path: string,
  accept: string,
  options: PostOptions = {},
): Promise<string> {
  return requestText('GET', base, path, undefined, options, accept).then((r) => r.text);
}

/** GET a file (a PDF, say) as a Blob, asking for `accept`; failures as getJson's (error bodies read as JSON). */
export function getBlob(
  base: string,
  path: string,
  accept: string,
  options: PostOptions = {},
): Promise<Blob> {
  return requestText('GET', base, path, undefined, options, accept, true).then((r) => r.blob!);
}

async function requestJson<T>(
  method: 'GET' | 'POST',
  base: string,
  path: string,
  body: unknown,
  options: PostOptions,
): Promise<T> {
  return parseJson<T>(await requestText(method, base, path, body, options, 'application/json'));
}

function parseJson<T>({ text, url, status }: { text: string; url: string; status: number }): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError('parse', `${url} did not answer with JSON`, url, status);
  }
}

async function requestText(
  method: 'GET' | 'POST',
  base: string,
  path: string,
  body: unknown,
  options: PostOptions,
  accept: string,
  binary = false,
): Promise<{ text: string; blob?: Blob; url: string; status: number; headers: Headers }> {
  const url = joinUrl(base, path);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort);
  const headers: Record<string, string> = { accept };
  if (method === 'POST') headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  let text = '';
  let blob: Blob | undefined;
  // The timeout covers the body too: a response whose body stalls must not hold its caller forever.
  try {
    if (options.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    res = await fetch(url, {
      method,
      headers,
      signal: controller.signal,
      ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
    });
    const read = async () => {
      if (binary && res.ok) blob = await res.blob();
      else text = await res.text();
    };
    await read().catch((cause: unknown) => {
      if (timedOut || options.signal?.aborted) throw cause;
    });
  } catch (cause) {
    if (timedOut) throw new ApiError('timeout', `${url} did not answer in time`, url);
    if (options.signal?.aborted) throw new ApiError('aborted', 'request cancelled', url);
    throw new ApiError('network', `cannot reach ${new URL(url).host}: ${(cause as Error).message}`, url);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (!res.ok) {
    let code: string | undefined;
    let message = `${res.status} ${res.statusText}`.trim();
    let field: string | undefined;
    try {
      const answer = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
      code = answer.error?.code;
      message = answer.error?.message ?? message;
      field = answer.error?.field;
    } catch {
      // Not our error body (a proxy, a crash page): keep the status line.
    }
    throw new ApiError('http', message, url, res.status, code, field);
  }
  return { text, ...(blob ? { blob } : {}), url, status: res.status, headers: res.headers };
}
