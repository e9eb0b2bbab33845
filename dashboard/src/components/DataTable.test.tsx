import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { DataTable } from './DataTable';

afterEach(cleanup);

const rows = [
  { id: 'a', name: 'Alpha', wh: 10 },
  { id: 'b', name: 'Beta', wh: 20 },
];

describe('DataTable', () => {
  it('heads each row with its first column and gives every cell its attributes', () => {
    render(
      <DataTable
        className="things"
        data-side="sell"
        caption="Things, newest first"
        rows={rows}
        rowKey={(r) => r.id}
        rowAttrs={(r) => ({ 'data-thing': r.id })}
        columns={[
          { header: 'Name', attrs: (r) => ({ title: `thing ${r.id}` }), cell: (r) => r.name },
          { header: 'Energy', attrs: { className: 'num' }, cell: (r) => `${r.wh} Wh` },
          false,
        ]}
      />,
    );
    const table = screen.getByRole('table', { name: 'Things, newest first' });
    expect(table.className).toBe('things');
    expect(table.getAttribute('data-side')).toBe('sell');
    expect(table.querySelector('caption')?.className).toBe('visually-hidden');
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Name', 'Energy']);
    const beta = table.querySelector('tr[data-thing="b"]') as HTMLElement;
    const header = within(beta).getByRole('rowheader');
    expect(header.textContent).toBe('Beta');
    expect(header.getAttribute('title')).toBe('thing b');
    const cell = within(beta).getByRole('cell');
    expect(cell.textContent).toBe('20 Wh');
    expect(cell.className).toBe('num');
    // No region without a scroll label: the table stands alone.
    expect(screen.queryByRole('region')).toBeNull();
  });

  it('scrolls in a labelled region, shows a visible caption, and adds what follows a row', () => {
    render(
      <DataTable
        caption="Visible"
        captionVisible
        scrollLabel="Things, scrollable"
        rowHeader={false}
        rows={rows}
        rowKey={(r) => r.id}
        after={(r) =>
          r.id === 'a' && (
            <tr className="detail">
              <td>under Alpha</td>
            </tr>
          )
        }
        columns={[{ header: 'Name', cell: (r) => r.name }]}
      />,
    );
    const region = screen.getByRole('region', { name: 'Things, scrollable' });
    expect(region.getAttribute('tabindex')).toBe('0');
    const table = within(region).getByRole('table');
    expect(table.querySelector('caption')?.className).toBe('');
    expect(within(table).queryByRole('rowheader')).toBeNull();
    const body = [...table.querySelectorAll('tbody tr')].map((tr) => tr.textContent);
    expect(body).toEqual(['Alpha', 'under Alpha', 'Beta']);
  });
});
