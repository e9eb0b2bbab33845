/** Lays out a window of the tangle as a left-to-right DAG: parents to the left of the blocks that approve them. */

export type BlockKind = 'milestone' | 'transaction' | 'data' | 'empty' | 'unknown';
export type BlockState = 'pending' | 'referenced' | 'conflicting';

export interface TangleBlock {
  id: string;
  parents: string[];
  kind: BlockKind;
  state: BlockState;
  /** One of the node's current tips. */
  tip: boolean;
  referencedBy?: number;
  /** For milestone blocks: the milestone's index. */
  milestoneIndex?: number;
}

export interface PlacedBlock extends TangleBlock {
  col: number;
  row: number;
  x: number;
  y: number;
}

export interface PlacedEdge {
  /** The approving (newer) block. */
  from: string;
  /** The parent it approves. */
  to: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface TangleLayout {
  width: number;
  height: number;
  columns: number;
  blocks: PlacedBlock[];
  edges: PlacedEdge[];
}

export interface LayoutOptions {
  colGap?: number;
  rowGap?: number;
  pad?: number;
}

/**
 * Column = the longest chain of known parents below a block, so every edge points left and arrival
 * order reads left to right. Rows within a column follow the mean row of the parents (fewer crossings),
 * then milestone order, then id, so the same input always gives the same picture.
 */
export function layoutTangle(blocks: readonly TangleBlock[], options: LayoutOptions = {}): TangleLayout {
  const colGap = options.colGap ?? 56;
  const rowGap = options.rowGap ?? 40;
  const pad = options.pad ?? 28;
  const byId = new Map(blocks.map((b) => [b.id, b]));
  const rank = new Map<string, number>();
  const visiting = new Set<string>();

  const rankOf = (id: string): number => {
    const known = rank.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0; // a cycle cannot happen in a tangle; never loop on bad data
    visiting.add(id);
    let r = 0;
    for (const p of byId.get(id)?.parents ?? []) if (byId.has(p)) r = Math.max(r, rankOf(p) + 1);
    visiting.delete(id);
    rank.set(id, r);
    return r;
  };
  for (const b of blocks) rankOf(b.id);

  const columns: TangleBlock[][] = [];
  for (const b of blocks) {
    const c = rank.get(b.id)!;
    const column = columns[c] ?? [];
    column.push(b);
    columns[c] = column;
  }
  const rowOf = new Map<string, number>();
  const order = (b: TangleBlock) => b.referencedBy ?? b.milestoneIndex ?? Number.MAX_SAFE_INTEGER;
  for (const column of columns) {
    if (!column) continue;
    const weight = (b: TangleBlock) => {
      const rows = b.parents.map((p) => rowOf.get(p)).filter((r): r is number => r !== undefined);
      return rows.length ? rows.reduce((a, r) => a + r, 0) / rows.length : Number.POSITIVE_INFINITY;
    };
    column.sort(
      (a, b) =>
        weight(a) - weight(b) ||
        Number(b.kind === 'milestone') - Number(a.kind === 'milestone') ||
        order(a) - order(b) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    for (const [i, b] of column.entries()) rowOf.set(b.id, i);
  }

  const maxRows = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const placed: PlacedBlock[] = [];
  const position = new Map<string, PlacedBlock>();
  columns.forEach((column, col) => {
    if (!column) return;
    const offset = (maxRows - column.length) / 2; // center short columns
    column.forEach((b, row) => {
      const p: PlacedBlock = { ...b, col, row, x: pad + col * colGap, y: pad + (row + offset) * rowGap };
      placed.push(p);
      position.set(b.id, p);
    });
  });

  const edges: PlacedEdge[] = [];
  for (const b of placed) {
    for (const parent of new Set(b.parents)) {
      const p = position.get(parent);
      if (p) edges.push({ from: b.id, to: parent, x1: b.x, y1: b.y, x2: p.x, y2: p.y });
    }
  }
  return {
    width: pad * 2 + Math.max(0, columns.length - 1) * colGap,
    height: pad * 2 + (maxRows - 1) * rowGap,
    columns: columns.length,
    blocks: placed,
    edges,
  };
}
