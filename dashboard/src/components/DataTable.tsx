import { Fragment, type HTMLAttributes, type ReactNode } from 'react';
import { ScrollRegion } from './ScrollRegion';

/** Element attributes, `data-*` ones included (test ids, states the e2e test selects on). */
export type Attrs = HTMLAttributes<HTMLElement> & { [data: `data-${string}`]: string | number | undefined };

export interface Column<T> {
  /** The column's header, also its key: unique within a table. */
  header: string;
  cell: (row: T) => ReactNode;
  /** The cell's attributes (class, title, test id), the same for every row or per row. */
  attrs?: Attrs | ((row: T) => Attrs);
}

/**
 * A table of rows by columns: a header row, the first column as each row's header unless `rowHeader` is
 * false, inside a keyboard-scrollable region when it has a `scrollLabel`.
 */
export function DataTable<T>({
  columns,
  rows,
  rowKey,
  rowAttrs,
  after,
  caption,
  captionVisible = false,
  scrollLabel,
  rowHeader = true,
  ...table
}: {
  columns: (Column<T> | false)[];
  rows: readonly T[];
  rowKey: (row: T) => string | number;
  rowAttrs?: (row: T) => Attrs;
  /** Anything to add after a row (e.g. a form that opens under it). */
  after?: (row: T) => ReactNode;
  caption: ReactNode;
  /** Captions are for screen readers unless this says otherwise. */
  captionVisible?: boolean;
  scrollLabel?: string;
  rowHeader?: boolean;
} & Attrs) {
  const shown = columns.filter((c): c is Column<T> => c !== false);
  const body = (
    <table {...table}>
      <caption className={captionVisible ? undefined : 'visually-hidden'}>{caption}</caption>
      <thead>
        <tr>
          {shown.map((c) => (
            <th key={c.header} scope="col">
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <Fragment key={rowKey(row)}>
            <tr {...rowAttrs?.(row)}>
              {shown.map((c, i) => {
                const attrs = typeof c.attrs === 'function' ? c.attrs(row) : c.attrs;
                return i === 0 && rowHeader ? (
                  <th key={c.header} scope="row" {...attrs}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.header} {...attrs}>
                    {c.cell(row)}
                  </td>
                );
              })}
            </tr>
            {after?.(row)}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
  return scrollLabel ? <ScrollRegion label={scrollLabel}>{body}</ScrollRegion> : body;
}
