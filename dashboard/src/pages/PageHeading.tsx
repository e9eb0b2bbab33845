import { type ReactNode, useEffect, useRef } from 'react';

/** The page's h1; it takes focus after navigation so screen readers announce the new page. */
export function PageHeading({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · TangleWatt`;
    // Only after an in-app navigation, not on first load (focus would skip the nav).
    if (document.activeElement && document.activeElement !== document.body) ref.current?.focus();
  }, [title]);
  return (
    <div className="page-heading">
      <h1 ref={ref} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </div>
  );
}
