import { shortAddress, shortId } from '../format/ids';
import { explorerHref } from '../router';

/** An id shortened for the eye, whole in the title and the link; `block` puts it on a line of its own. */
export function IdLink({
  id,
  label,
  full,
  block,
}: {
  id: string;
  label?: string;
  full?: boolean;
  block?: boolean;
}) {
  const text = full ? id : /^0x/.test(id) ? shortId(id) : shortAddress(id);
  const link = (
    <a className="id" href={explorerHref(id)} title={id}>
      {label ? `${label} ` : ''}
      <code>{text}</code>
    </a>
  );
  return block ? <span className="block">{link}</span> : link;
}

export function MilestoneLink({ index }: { index: number }) {
  return (
    <a href={explorerHref(index)} title={`Milestone ${index} in the explorer`}>
      #{index}
    </a>
  );
}

/** A wallet address, shortened, linked to the explorer, whole in the title. */
export function AddressLink({ address }: { address: string }) {
  return (
    <a href={explorerHref(address)} title={address}>
      <code>{shortAddress(address)}</code>
    </a>
  );
}
