/** Test doubles for the browser's network: a scripted fetch and an EventSource the test drives. */

type Handler = (e: MessageEvent | Event) => void;

export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readyState = 0;
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, handler: Handler): void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler);
  }

  removeEventListener(type: string, handler: Handler): void {
    this.handlers.get(type)?.delete(handler);
  }

  close(): void {
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    for (const h of this.handlers.get('open') ?? []) h(new Event('open'));
  }

  /** A dropped connection: the browser retries (CONNECTING) or gives up (CLOSED). */
  fail(readyState: 0 | 2 = 0): void {
    this.readyState = readyState;
    for (const h of this.handlers.get('error') ?? []) h(new Event('error'));
  }

  emit(type: string, data: unknown): void {
    for (const h of this.handlers.get(type) ?? []) h(new MessageEvent(type, { data: JSON.stringify(data) }));
  }

  static latest(urlPart: string): FakeEventSource | undefined {
    return [...FakeEventSource.instances].reverse().find((s) => s.url.includes(urlPart));
  }
}

export type Route = (
  url: URL,
) =>
  | { status?: number; body?: unknown; text?: string; contentType?: string; headers?: Record<string, string> }
  | undefined;

/** A fetch that answers from `route` (JSON `body`, or raw `text`, with any `headers`); unrouted requests fail like an unreachable host. */
export function fakeFetch(route: Route) {
  const calls: string[] = [];
  /** Each request's headers, lower-cased names, in call order. */
  const headers: Record<string, string>[] = [];
  const fn = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    calls.push(url.pathname + url.search);
    headers.push(Object.fromEntries(new Headers(init?.headers).entries()));
    const answer = route(url);
    if (!answer) throw new TypeError('Failed to fetch');
    return new Response(answer.text ?? JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'content-type': answer.contentType ?? 'application/json', ...answer.headers },
    });
  };
  return Object.assign(fn, { calls, headers });
}
