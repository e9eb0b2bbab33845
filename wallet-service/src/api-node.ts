import {
  EXPLORER_SOURCE_HEADER,
  MAX_MILESTONE_INDEX,
  type WalletRouteId,
  walletRoutes,
} from '@tanglewatt/contract';
import { bech32ToHex, isBech32Address, outputSummaryToJson, summarizeOutput } from '@tanglewatt/ledger';
import type { Response } from 'express';
import type { z } from 'zod';
import { type Handler, valid } from './api-common.js';
import type { ApiDeps } from './api-deps.js';
import { type ExplorerAnswer, ExplorerReads } from './explorer-reads.js';
import { HttpError } from './http-errors.js';

type NodeRouteId = Extract<WalletRouteId, `node${string}`>;

/**
 * The explorer's network reads for the dashboard: the node's core API, validated and relayed; what the node
 * pruned comes from the indexer, said in the source header.
 */
export function nodeHandlers(deps: ApiDeps): Record<NodeRouteId, Handler> {
  const { node, ledger, addresses } = deps;
  const { nodeMilestone } = walletRoutes;
  const explorer = new ExplorerReads(node, deps.indexer, () => ledger.ledgerIndex);
  const answer = (res: Response, { body, source }: ExplorerAnswer<unknown>) => {
    res.set(EXPLORER_SOURCE_HEADER, source).json(body);
  };
  const relay =
    (
      route: { params: z.ZodType<{ id: string }> },
      read: (id: string) => Promise<ExplorerAnswer<unknown>>,
    ): Handler =>
    async (req, res) => {
      answer(res, await read(valid(route.params, req.params).id));
    };
  return {
    nodeInfo: async (_req, res) => {
      res.json(await node.info());
    },
    nodeTips: async (_req, res) => {
      res.json({ tips: await node.tips() });
    },
    nodeMilestones: async (req, res) => {
      const query = walletRoutes.nodeMilestones.query.safeParse(req.query);
      if (!query.success)
        throw new HttpError('INVALID_REQUEST', 'count: a whole number from 1 to 50', 'count');
      const latest = (await node.info()).status.confirmedMilestone.index;
      const indexes = Array.from({ length: Math.min(query.data.count, latest) }, (_, i) => latest - i);
      const items = await Promise.all(indexes.map((i) => node.milestoneByIndex(i).catch(() => undefined)));
      res.json({ items: items.filter(Boolean) });
    },
    nodeMilestone: async (req, res) => {
      const params = nodeMilestone.params.safeParse(req.params);
      if (!params.success)
        throw new HttpError(
          'INVALID_REQUEST',
          'id: a milestone index (from 1) or a milestone id (0x and 64 hex digits)',
          'id',
        );
      const { id } = params.data;
      if (id.startsWith('0x'))
        return void answer(res, { body: await node.milestoneById(id), source: 'node' });
      const index = Number(id);
      // Indexes are uint32: a larger one names no milestone.
      if (index > MAX_MILESTONE_INDEX) throw new HttpError('NOT_FOUND', `no milestone ${index}`);
      answer(res, await explorer.milestoneByIndex(index));
    },
    nodeBlock: relay(walletRoutes.nodeBlock, (id) => explorer.block(id)),
    nodeBlockMetadata: relay(walletRoutes.nodeBlockMetadata, (id) => explorer.blockMetadata(id)),
    nodeTransaction: relay(walletRoutes.nodeTransaction, (id) => explorer.includedBlock(id)),
    nodeTransactionMetadata: relay(walletRoutes.nodeTransactionMetadata, (id) =>
      explorer.includedBlockMetadata(id),
    ),
    nodeAddress: async (req, res) => {
      const address = String(req.params.address);
      if (!isBech32Address(address, deps.bech32Hrp)) {
        throw new HttpError(
          'INVALID_REQUEST',
          `address: a bech32 Ed25519 address starting "${deps.bech32Hrp}1"`,
          'address',
        );
      }
      const hex = bech32ToHex(address).toLowerCase();
      const own = hex === ledger.addressHex;
      const items = own
        ? ledger.all().filter((o) => o.ownerHex === hex)
        : await addresses.unspentOf({ bech32: address, hex });
      res.json({
        address,
        ledgerIndex: ledger.ledgerIndex,
        // Outputs older than this milestone are known only for the wallet's own address.
        seenSinceMilestone: own ? null : (addresses.firstMilestone ?? null),
        items: items.map(outputSummaryToJson),
      });
    },
    nodeOutput: relay(walletRoutes.nodeOutput, async (id) => {
      const { body, source } = await explorer.output(id);
      return { body: { ...body, summary: outputSummaryToJson(summarizeOutput(id, body)) }, source };
    }),
  };
}
