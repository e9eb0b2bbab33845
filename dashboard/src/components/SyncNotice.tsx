import { useState } from 'react';
import type { NodeStatus, WalletClient } from '../api/wallet';
import { statusFromInfo } from '../api/wallet';
import { useResource } from '../hooks/useResource';
import { useLiveEvent, useResync } from '../live/hooks';

/**
 * A warning while the wallet-service's node is behind or unreachable: balances, payment states and
 * explorer answers may lag until it catches up. Nothing when all is well or not yet known.
 */
export function SyncNotice({ client, name }: { client: WalletClient; name: string }) {
  const info = useResource((signal) => client.nodeInfo({ signal }), client.url);
  const [live, setLive] = useState<NodeStatus | undefined>(undefined);
  useLiveEvent<NodeStatus>(client.eventsUrl, 'node', setLive);
  useResync(client.eventsUrl, info.reload);
  const status = live ?? (info.data ? statusFromInfo(info.data) : undefined);
  if (!status) return null;
  if (status.synced) return null;
  const behind = status.latestMilestone.index - status.confirmedMilestone.index;
  return (
    <div className="banner banner-warn" role="alert">
      <strong>{name}’s node is not synced</strong>
      {behind > 0
        ? ` (confirmed milestone ${status.confirmedMilestone.index} of ${status.latestMilestone.index}).`
        : ' or cannot be reached.'}{' '}
      What is shown here may lag until it catches up.
    </div>
  );
}
