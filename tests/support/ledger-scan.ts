import { bech32ToHex, milestoneChanges, type NodeApi, type OutputSummary } from '@tanglewatt/ledger';

/** Every output the ledger created for `address` in milestones (from, to], read from the node itself. */
export async function outputsCreatedFor(
  api: NodeApi,
  address: string,
  from: number,
  to: number,
): Promise<OutputSummary[]> {
  const hex = bech32ToHex(address).toLowerCase();
  const found: OutputSummary[] = [];
  for (let index = from + 1; index <= to; index++) {
    const changes = await milestoneChanges(api, index);
    found.push(...changes.created.filter((o) => o.ownerHex === hex));
  }
  return found;
}
