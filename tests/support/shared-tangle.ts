// The tangle the integration files share (started once by tangle-setup.ts), as each file reaches it.
import { NodeApi } from '@tanglewatt/ledger';
import { inject } from 'vitest';

/** The shared tangle, its first node's REST URL and a client for it. */
export function sharedTangle() {
  const tangle = inject('tangle');
  const nodeUrl = tangle.nodes[0]!.restUrl;
  return { tangle, nodeUrl, node: new NodeApi(nodeUrl) };
}

/** Stops the wallet-services a file started, skipping those it never got to start. */
export async function stopServices(...wallets: ({ service: { stop(): Promise<void> } } | undefined)[]) {
  for (const w of wallets) await w?.service.stop();
}

/** A market window opening now and `ms` long; `nowMs` is its start. */
export function windowFromNow(ms: number): { nowMs: number; window: { startMs: number; endMs: number } } {
  const nowMs = Date.now();
  return { nowMs, window: { startMs: nowMs, endMs: nowMs + ms } };
}
