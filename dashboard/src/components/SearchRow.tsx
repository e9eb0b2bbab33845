import type { InputHTMLAttributes } from 'react';

/** A labelled input with its submit button beside it (search boxes, keys to check or decode with). */
export function SearchRow({
  id,
  label,
  button,
  ...input
}: { id: string; label: string; button: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div className="search-row">
        <input id={id} {...input} />
        <button type="submit">{button}</button>
      </div>
    </>
  );
}
