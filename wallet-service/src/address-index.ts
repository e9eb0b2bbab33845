import type { MilestoneChanges, OutputSummary } from '@tanglewatt/ledger';

/**
 * Unspent outputs of every address, as seen in the milestones this service has followed since it
 * started: the explorer's address lookup, standing in for an indexer the network does not have.
 * In memory and bounded; a restart starts it afresh.
 */
export class AddressIndex {
  private readonly byOwner = new Map<string, Map<string, OutputSummary>>();
  private readonly ownerOf = new Map<string, string>();
  private since: number | undefined;

  constructor(private readonly maxOutputs = 200_000) {}

  /** First milestone this index has seen. */
  get firstMilestone(): number | undefined {
    return this.since;
  }

  apply(changes: MilestoneChanges): void {
    this.since ??= changes.index;
    for (const id of changes.consumed) {
      const owner = this.ownerOf.get(id);
      if (!owner) continue;
      this.ownerOf.delete(id);
      const outputs = this.byOwner.get(owner);
      outputs?.delete(id);
      if (outputs?.size === 0) this.byOwner.delete(owner);
    }
    // An output created and spent within the same milestone (a transaction on unconfirmed change) is not unspent.
    const consumed = new Set(changes.consumed);
    for (const output of changes.created) {
      if (!output.ownerHex || consumed.has(output.outputId) || this.ownerOf.size >= this.maxOutputs) continue;
      this.ownerOf.set(output.outputId, output.ownerHex);
      const outputs = this.byOwner.get(output.ownerHex) ?? new Map<string, OutputSummary>();
      this.byOwner.set(output.ownerHex, outputs);
      outputs.set(output.outputId, output);
    }
  }

  unspentOf(addressHex: string): OutputSummary[] {
    return [...(this.byOwner.get(addressHex.toLowerCase())?.values() ?? [])];
  }
}
