import type { ReactNode } from 'react';
import type { Attrs } from './DataTable';

/**
 * One term of a description list and what it describes, with the description's attributes (live region,
 * test id); `grouped` wraps the pair in a div, for lists laid out as a grid of pairs.
 */
export function Term({
  name,
  grouped = false,
  children,
  ...attrs
}: { name: string; grouped?: boolean; children: ReactNode } & Attrs) {
  const pair = (
    <>
      <dt>{name}</dt>
      <dd {...attrs}>{children}</dd>
    </>
  );
  return grouped ? <div>{pair}</div> : pair;
}
