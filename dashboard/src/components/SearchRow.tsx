import { type HTMLAttributes, type InputHTMLAttributes, useId } from 'react';

/**
 * A labelled input with its submit button beside it (search boxes, keys to check or decode with), and
 * the hint that describes it when one is given. Ids and keys are neither auto-completed nor spell-checked.
 */
export function SearchRow({
  label,
  button,
  hint,
  ...input
}: {
  label: string;
  button: string;
  hint?: HTMLAttributes<HTMLParagraphElement>;
} & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const hintId = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div className="search-row">
        <input
          id={id}
          autoComplete="off"
          spellCheck={false}
          {...(hint ? { 'aria-describedby': hintId } : {})}
          {...input}
        />
        <button type="submit">{button}</button>
      </div>
      {hint && <p className="hint" {...hint} id={hintId} />}
    </>
  );
}
