import type { IndexerApi, MilestoneChanges, OutputSummary } from '@tanglewatt/ledger';
import { summaryOf } from './indexer-slice.js';

/** The explorer's address lookup: unspent outputs an address owns. */
export interface AddressLookup {
  unspentOf(address: { bech32: string; hex: string }): Promise<OutputSummary[]>;
  /** Outputs booked before this milestone are not known (undefined: every one is). */
  readonly firstMilestone: number | undefined;
}

/** The community indexer knows every address and every output, also those the node has pruned. */
export class IndexerAddresses implements AddressLookup {
  readonly firstMilestone = undefined;

  constructor(private readonly indexer: Pick<IndexerApi, 'allAddressOutputs'>) {}

  async unspentOf(address: { bech32: string }): Promise<OutputSummary[]> {
    const outputs = await this.indexer.allAddressOutputs(address.bech32, { unspent: true });
    return outputs.filter((o) => o.roles.includes('address')).map(summaryOf);
  }
}

/**
 * Unspent outputs of every address, as seen in the milestones this service has followed since it
 * started: the explorer's address lookup of a wallet-service configured without a community indexer.
 * In memory and bounded; a restart starts it afresh.
 */
export class AddressIndex implements AddressLookup {
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

  async unspentOf(address: { hex: string }): Promise<OutputSummary[]> {
    return [...(this.byOwner.get(address.hex.toLowerCase())?.values() ?? [])];
  }
}
