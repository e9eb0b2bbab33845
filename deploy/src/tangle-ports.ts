import { assertPortFree, freePorts } from './processes.js';
import { DEFAULT_PORTS, type TanglePorts } from './tangle-state.js';

/** The ports a start uses: those asked for, or for an existing network the ones its node configs hold. */
export async function resolvePorts(
  requested: TanglePorts | 'auto' | undefined,
  previous?: TanglePorts,
  nodes = 1,
): Promise<TanglePorts> {
  if (requested === 'auto') {
    // An existing network keeps the ports its nodes' configs were written with.
    if (previous) return previous;
    // Extra nodes use the ports after these, which the kernel did not vouch for: pick again while one of
    // them is taken (ensurePortsFree still probes them all before anything starts).
    for (let attempt = 1; ; attempt++) {
      const [rest, gossip, inx, mqtt] = (await freePorts(4)) as [number, number, number, number];
      const ports = { rest, gossip, inx, mqtt };
      if (attempt >= 20 || (await followOnPortsFree(ports, nodes))) return ports;
    }
  }
  return requested ?? previous ?? DEFAULT_PORTS;
}

async function followOnPortsFree(ports: TanglePorts, nodes: number): Promise<boolean> {
  const extra = Array.from({ length: nodes - 1 }, (_, i) => [
    ports.rest + i + 1,
    ports.gossip + i + 1,
    ports.inx + i + 1,
  ]).flat();
  const all = [ports.rest, ports.gossip, ports.inx, ports.mqtt, ...extra];
  if (new Set(all).size !== all.length) return false;
  for (const port of extra) {
    if (port > 65_535) return false;
    const free = await assertPortFree(port, '', '').then(
      () => true,
      () => false,
    );
    if (!free) return false;
  }
  return true;
}

export async function ensurePortsFree(ports: TanglePorts, nodes: number, withMqtt: boolean): Promise<void> {
  for (let i = 0; i < nodes; i++) {
    await assertPortFree(ports.rest + i, `hornet-${i + 1} REST API`, '--rest-port');
    await assertPortFree(ports.gossip + i, `hornet-${i + 1} gossip`, '--gossip-port');
  }
  for (let i = 0; i < nodes; i++) await assertPortFree(ports.inx + i, `hornet-${i + 1} INX`, '--inx-port');
  if (withMqtt) await assertPortFree(ports.mqtt, 'inx-mqtt websocket', '--mqtt-port');
}
