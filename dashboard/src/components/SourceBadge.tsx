import type { ExplorerSource } from '../api/wallet';

const text: Record<ExplorerSource, { symbol: string; words: string }> = {
  node: { symbol: '●', words: 'from node' },
  indexer: { symbol: '◐', words: 'from indexer (node has pruned this)' },
};

/** Where an explorer answer came from, in words (the symbol and colour only repeat them). */
export function SourceBadge({ source }: { source: ExplorerSource }) {
  const { symbol, words } = text[source];
  return (
    <span className={`badge badge-source-${source}`} data-testid="explorer-source" data-source={source}>
      <span aria-hidden="true">{symbol} </span>
      {words}
    </span>
  );
}
