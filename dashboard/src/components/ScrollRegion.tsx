import type { ReactNode, Ref, UIEventHandler } from 'react';

/** A horizontally scrollable area (wide tables, the tangle) that keyboard users can focus and scroll. */
export function ScrollRegion({
  label,
  className = 'table-scroll',
  children,
  ref,
  onScroll,
}: {
  label: string;
  className?: string;
  children: ReactNode;
  ref?: Ref<HTMLElement>;
  onScroll?: UIEventHandler<HTMLElement>;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section className={className} tabIndex={0} aria-label={label} ref={ref} onScroll={onScroll}>
      {children}
    </section>
  );
}
