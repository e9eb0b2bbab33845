import { describe, expect, it } from 'vitest';
import { assertPortFree } from './processes.js';
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

  it("for three nodes with 'auto', the ports after rest and gossip that nodes 2 and 3 use are free and distinct too", async () => {
    const ports = await resolvePorts('auto', undefined, 3);
    const extra = [ports.rest + 1, ports.rest + 2, ports.gossip + 1, ports.gossip + 2];
    const all = [...Object.values(ports), ...extra];
    expect(new Set(all).size).toBe(all.length);
    for (const port of extra) await assertPortFree(port, 'follow-on', '--rest-port');
  });

  it('takes ports asked for over the previous ones', async () => {
    const asked = { rest: 1, gossip: 2, inx: 3, mqtt: 4 };
    expect(await resolvePorts(asked, { rest: 5, gossip: 6, inx: 7, mqtt: 8 })).toEqual(asked);
  });
});
