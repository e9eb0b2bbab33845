import { describe, expect, it } from 'vitest';
import { resolvePorts } from './tangle.js';

describe('tangle ports', () => {
  it("keeps an existing network's ports on a start with 'auto' (its node configs were written with them)", async () => {
    const previous = { rest: 31001, gossip: 31002, inx: 31003, mqtt: 31004 };
    expect(await resolvePorts('auto', previous)).toEqual(previous);
  });

  it("picks four distinct free ports for a new network with 'auto'", async () => {
    const ports = await resolvePorts('auto', undefined);
    expect(new Set(Object.values(ports)).size).toBe(4);
  });

  it('takes ports asked for over the previous ones', async () => {
    const asked = { rest: 1, gossip: 2, inx: 3, mqtt: 4 };
    expect(await resolvePorts(asked, { rest: 5, gossip: 6, inx: 7, mqtt: 8 })).toEqual(asked);
  });
});
