import type { InputHTMLAttributes, ReactNode } from 'react';

/** One input with its label, hint and error, wired for screen readers (aria-invalid, aria-describedby). */
export function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error: string | undefined;
  children: (describedBy: string | undefined) => ReactNode;
}) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(describedBy || undefined)}
      {hint && (
        <p id={`${id}-hint`} className="hint field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A `Field` holding one text input: marked invalid while it has an error. */
export function InputField({
  id,
  name,
  label,
  hint,
  error,
  ...input
}: {
  id: string;
  name?: string;
  label: ReactNode;
  hint?: ReactNode;
  error: string | undefined;
} & Pick<
  InputHTMLAttributes<HTMLInputElement>,
  'inputMode' | 'autoComplete' | 'type' | 'value' | 'onChange'
>) {
  return (
    <Field id={id} label={label} hint={hint} error={error}>
      {(describedBy) => (
        <input
          id={id}
          name={name}
          {...input}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
        />
      )}
    </Field>
  );
}

/** The error under a whole form, announced when it appears. */
export function FormError({ error }: { error: string | undefined }) {
  return error ? (
    <p className="field-error" role="alert">
      {error}
    </p>
  ) : null;
}

/** The submit button, saying "Posting…" while a post is under way. */
export function PostSubmit({ busy, children }: { busy: boolean; children: string }) {
  return (
    <button type="submit" disabled={busy} aria-busy={busy || undefined}>
      {busy ? 'Posting…' : children}
    </button>
  );
}
