/**
 * The explorer's Verify panel: paste a payment's transaction id or a period id (and, for a restricted
 * channel, a reader key kept only in this page's memory) and see PASS or the one-line failure, checked in
 * the browser from the ledger. The channel codecs and crypto load on the first check, not with the page.
 */
import { type FormEvent, useId, useRef, useState } from 'react';
import { describeError } from '../../api/http';
import { SearchRow } from '../../components/SearchRow';
import { InlineError } from '../../components/states';
import type { VerifyLine, VerifySources } from './verify-period';

type Outcome = { lines: VerifyLine[] } | { error: string } | { running: true };

/** A reader key typed into the page: 64 hex digits (or none), else a one-line error naming the field. */
export function parseReaderKey(text: string): { key?: Uint8Array } | { error: string } {
  const hex = text.trim().replace(/^0x/i, '').toLowerCase();
  if (hex === '') return {};
  if (!/^[0-9a-f]{64}$/.test(hex))
    return { error: 'Reader key: 64 hex digits (an X25519 secret key), or empty' };
  return { key: Uint8Array.from(hex.match(/../g)!, (b) => Number.parseInt(b, 16)) };
}

export function VerifyPanel({ sources }: { sources: VerifySources }) {
  const headingId = useId();
  const keyId = useId();
  const [query, setQuery] = useState('');
  const [keyText, setKeyText] = useState('');
  const [outcome, setOutcome] = useState<Outcome>();
  const running = useRef<AbortController | undefined>(undefined);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!query.trim()) return setOutcome({ error: 'Transaction or period id: give one' });
    const parsed = parseReaderKey(keyText);
    if ('error' in parsed) return setOutcome({ error: parsed.error });
    running.current?.abort();
    const abort = new AbortController();
    running.current = abort;
    setOutcome({ running: true });
    try {
      const { verifyInBrowser } = await import('./verify-period');
      const lines = await verifyInBrowser(sources, query, parsed.key, abort.signal);
      if (!abort.signal.aborted) setOutcome({ lines });
    } catch (error) {
      if (!abort.signal.aborted) setOutcome({ error: `Could not check: ${describeError(error)}` });
    } finally {
      parsed.key?.fill(0);
    }
  };

  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>Verify</h2>
      <form className="search" onSubmit={submit}>
        <SearchRow
          label="Transaction or period id"
          button="Verify"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder="0x and 64 hex digits, or a period id such as meter-1/42"
          hint={{
            children:
              "Checks that the payment's readingsHash is the Merkle root of the meter's signed messages for the period, read from the ledger.",
          }}
        />
        <label htmlFor={keyId}>Reader key (restricted channels)</label>
        <input
          id={keyId}
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={keyText}
          onChange={(e) => setKeyText(e.target.value)}
          placeholder="X25519 secret key, 64 hex digits"
        />
        <p className="hint">
          Held only in this page's memory while it checks: not saved, not sent to any server.
        </p>
      </form>
      {outcome && 'running' in outcome && <p role="status">Checking…</p>}
      {outcome && 'error' in outcome && <InlineError>{outcome.error}</InlineError>}
      {outcome && 'lines' in outcome && (
        <ul aria-label="Verdict" className="verdict">
          {outcome.lines.map((l) => (
            <li key={l.text} className={l.ok ? 'ok' : 'fail'}>
              <code>{l.text}</code>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
