import type { Rejection } from '../../api/market';
import { describeRejection } from '../../api/market';
import { DataTable } from '../../components/DataTable';
import { StateBadge } from '../../components/StateBadge';
import { Empty } from '../../components/states';
import { shortId } from '../../format/ids';
import { Owner, Placed } from './parts';

const none = <span className="muted">—</span>;

/** Messages the book left out and why: a doctored or expired offer shows here as such. */
export function RejectionsTable({ rejections, me }: { rejections: Rejection[]; me: string | undefined }) {
  if (rejections.length === 0) return <Empty>No message has been rejected.</Empty>;
  // Rejections carry no id of their own (a malformed message has no message id): key them by content.
  const seen = new Map<string, number>();
  const newest = [...rejections].reverse().map((r) => {
    const content = JSON.stringify(r);
    const n = seen.get(content) ?? 0;
    seen.set(content, n + 1);
    return { r, key: `${content}#${n}` };
  });
  return (
    <DataTable
      className="rejections"
      scrollLabel="Rejected messages, scrollable"
      caption="Rejected messages, newest first"
      rows={newest}
      rowKey={({ key }) => key}
      rowAttrs={({ r }) => ({ 'data-reason': r.reason, 'data-message': r.messageId })}
      columns={[
        {
          header: 'Signed at',
          cell: ({ r }) => (r.timestampMs !== undefined ? <Placed ms={r.timestampMs} /> : none),
        },
        {
          header: 'Message',
          cell: ({ r }) => (
            <>
              {r.kind ?? <span className="muted">unknown kind</span>}
              {r.messageId && (
                <span className="muted block" title={`message id ${r.messageId}`}>
                  <code>{shortId(r.messageId)}</code>
                </span>
              )}
            </>
          ),
        },
        { header: 'From', cell: ({ r }) => (r.identity ? <Owner address={r.identity} me={me} /> : none) },
        {
          header: 'Why',
          cell: ({ r }) => (
            <>
              <StateBadge state="rejected" /> <code>{r.reason}</code>
              <span className="block">{describeRejection(r.reason)}</span>
              <span className="muted block">{r.detail}</span>
            </>
          ),
        },
      ]}
    />
  );
}
