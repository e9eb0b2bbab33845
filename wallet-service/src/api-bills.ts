import { BillError, billFromIndexer, parseBillConfig, renderBill, ZERO_BASELINE } from '@tanglewatt/bills';
import { didResolver } from '@tanglewatt/channels/node';
import { walletRoutes } from '@tanglewatt/contract';
import { type Handler, valid } from './api-common.js';
import type { ApiDeps } from './api-deps.js';
import { HttpError } from './http-errors.js';

/** GET /bills: the household's bill, from the indexer's view of the ledger and channels (not this service's journal). */
export function billsHandler(deps: ApiDeps): Handler {
  return async (req, res) => {
    const query = valid(walletRoutes.bills.query, req.query);
    if (!deps.indexer)
      throw new HttpError(
        'NOT_CONFIGURED',
        'indexer: bills are built from the community indexer; set indexer.url in the wallet config',
      );
    let config: ReturnType<typeof parseBillConfig>;
    try {
      const { readerKeyFile: _file, ...billConfig } = deps.bills ?? {
        ...ZERO_BASELINE,
        readerKeyFile: undefined,
      };
      config = parseBillConfig(billConfig, { from: query.from, to: query.to });
    } catch (error) {
      if (error instanceof BillError) {
        const field = error.message.split(':')[0]!;
        throw new HttpError('INVALID_REQUEST', error.message, field);
      }
      throw error;
    }
    const warnings = deps.bills
      ? []
      : ['no bills config in the wallet config: the retail and feed-in baselines and CO2 factor are 0'];
    let bill: Awaited<ReturnType<typeof billFromIndexer>>;
    try {
      bill = await billFromIndexer(deps.indexer, deps.address, config, {
        warnings,
        ...(deps.billsReaderKey ? { readerSecretKey: deps.billsReaderKey } : {}),
        // A meter that rotated its key names its DID: resolved through this wallet's node.
        resolveDid: didResolver(deps.node.url),
      });
    } catch (error) {
      // A band this cycle has energy in but the config prices not: the wallet config is short of it.
      if (error instanceof BillError) throw new HttpError('NOT_CONFIGURED', `bills.${error.message}`);
      throw error;
    }
    const rendered = await renderBill(bill, query.format);
    res.set({ 'content-type': rendered.contentType, 'cache-control': 'no-store' });
    if (query.format !== 'json')
      res.set('content-disposition', `attachment; filename="${rendered.fileName}"`);
    res.send(typeof rendered.body === 'string' ? rendered.body : Buffer.from(rendered.body));
  };
}
