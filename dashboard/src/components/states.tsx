import type { ReactNode } from 'react';
import { ApiError, describeError } from '../api/http';

export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** A short error in a sentence, announced when it appears. */
export function InlineError({ children }: { children: ReactNode }) {
  return (
    <p className="state state-error" role="alert">
      {children}
    </p>
  );
}

/** What failed to load, why, and how to try again. */
export interface ErrorProps {
  error: unknown;
  /** What could not be loaded, as in "Could not load …". */
  what: string;
  retry?: (() => void) | undefined;
}

/** How a list's loading stands: what a table of data takes beside the data. */
export interface LoadState {
  loading: boolean;
  error: unknown;
  retry?: (() => void) | undefined;
}

/** An error with what to do about it; `retry` offers a button. */
export function ErrorMessage({ error, what, retry }: ErrorProps) {
  let hint = '';
  if (error instanceof ApiError) {
    if (error.kind === 'network')
      hint = 'Is the service running, and does it allow this page’s origin (CORS)?';
    else if (error.kind === 'timeout') hint = 'The service is slow to answer or unreachable.';
    else if (error.code === 'NODE_UNREACHABLE') hint = 'The wallet-service is up but cannot reach its node.';
  }
  return (
    <div className="state state-error" role="alert">
      <p>
        <strong>Could not load {what}.</strong> {describeError(error)}
      </p>
      {hint && <p className="hint">{hint}</p>}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A resource with nothing to show yet: still loading, or why it failed with a retry. */
export function NotLoaded({ loading, ...error }: ErrorProps & { loading: boolean }) {
  return loading ? <Loading what={error.what} /> : <ErrorMessage {...error} />;
}

/** A refresh that failed while older data stays on screen; nothing when there is no error. */
export function StaleError(props: ErrorProps) {
  return props.error === undefined ? null : <ErrorMessage {...props} />;
}
