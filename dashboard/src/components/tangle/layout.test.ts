import { describe, expect, it } from 'vitest';
import { layoutTangle, type TangleBlock } from './layout';

const block = (id: string, parents: string[], extra: Partial<TangleBlock> = {}): TangleBlock => ({
  id,
  parents,
  kind: 'empty',
  state: 'referenced',
  tip: false,
  ...extra,
});

describe('layoutTangle', () => {
  it('puts every block right of its parents (column = longest known chain)', () => {
    const blocks = [
      block('m1', [], { kind: 'milestone', milestoneIndex: 1 }),
      block('a', ['m1']),
      block('b', ['m1']),
      block('c', ['a', 'b']),
      block('m2', ['c', 'm1'], { kind: 'milestone', milestoneIndex: 2 }),
      block('tip', ['m2', 'unknown-parent'], { state: 'pending', tip: true }),
    ];
    const layout = layoutTangle(blocks, { colGap: 50, rowGap: 30, pad: 10 });
    const at = Object.fromEntries(layout.blocks.map((b) => [b.id, b]));
    expect(at.m1!.col).toBe(0);
    expect(at.a!.col).toBe(1);
    expect(at.b!.col).toBe(1);
    expect(at.c!.col).toBe(2);
    expect(at.m2!.col).toBe(3);
    expect(at.tip!.col).toBe(4);
    expect(layout.columns).toBe(5);
    for (const e of layout.edges) expect(e.x1).toBeGreaterThan(e.x2);
    // Edges only to parents inside the window.
    expect(layout.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(
      ['a>m1', 'b>m1', 'c>a', 'c>b', 'm2>c', 'm2>m1', 'tip>m2'].sort(),
    );
    expect(layout.width).toBe(10 * 2 + 4 * 50);
    expect(layout.height).toBe(10 * 2 + 1 * 30);
    // A column of one is centered between the two rows of the widest column.
    expect(at.m1!.y).toBe(10 + 0.5 * 30);
    expect(at.a!.y).toBe(10);
    expect(at.b!.y).toBe(40);
  });

  it('is deterministic whatever the input order', () => {
    const blocks = [block('x', []), block('y', []), block('z', ['x', 'y']), block('w', ['x'])];
    const one = layoutTangle(blocks);
    const two = layoutTangle([...blocks].reverse());
    const key = (l: typeof one) => l.blocks.map((b) => `${b.id}@${b.col},${b.row}`).sort();
    expect(key(two)).toEqual(key(one));
  });

  it('orders rows by the parents’ rows, milestones first on ties', () => {
    const blocks = [
      block('p0', []),
      block('p1', []),
      block('child-of-p1', ['p1']),
      block('child-of-p0', ['p0']),
      block('ms', [], { kind: 'milestone', milestoneIndex: 5 }),
    ];
    const at = Object.fromEntries(layoutTangle(blocks).blocks.map((b) => [b.id, b]));
    expect(at.ms!.row).toBe(0);
    expect(at['child-of-p0']!.row).toBeLessThan(at['child-of-p1']!.row);
  });

  it('survives an empty window, duplicate parents and a (bogus) cycle', () => {
    expect(layoutTangle([]).blocks).toEqual([]);
    const dup = layoutTangle([block('a', []), block('b', ['a', 'a'])]);
    expect(dup.edges).toHaveLength(1);
    const cyclic = layoutTangle([block('a', ['b']), block('b', ['a'])]);
    expect(cyclic.blocks).toHaveLength(2);
  });
});
