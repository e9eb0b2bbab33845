import { type FormEvent, useId, useState } from 'react';
import { ApiError } from '../../api/http';
import type { OrderView } from '../../api/market';
import type { WalletClient } from '../../api/wallet';
import { FormError, InputField, PostSubmit } from './fields';
import { type AmendField, checkAmend, formatWh, type PostRecord } from './model';
import { postErrorText } from './parts';

type AmendErrors = Partial<Record<AmendField | 'form', string>>;

/** New total energy (the sold part included) and/or a new price for one open order. */
export function AmendForm({
  order,
  client,
  onPosted,
  onClose,
}: {
  order: OrderView;
  client: WalletClient;
  onPosted: (post: PostRecord) => void;
  onClose: () => void;
}) {
  const [energy, setEnergy] = useState(String(order.energyWh));
  const [price, setPrice] = useState(order.priceUnitsPerWh);
  const [errors, setErrors] = useState<AmendErrors>({});
  const [busy, setBusy] = useState(false);
  const base = useId();
  const ids = { energy: `${base}-energy`, price: `${base}-price` };

  const fail = (errs: AmendErrors) => {
    setErrors(errs);
    const first = (['energy', 'price'] as const).find((f) => errs[f]);
    if (first) document.getElementById(ids[first])?.focus();
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const checked = checkAmend(order, { energy, price });
    if (!checked.ok) return fail(checked.errors);
    setErrors({});
    setBusy(true);
    try {
      const posted = await client.amend(checked.request);
      onPosted({
        kind: 'amend',
        target: order.id,
        messageId: posted.messageId,
        blockId: posted.blockId,
        atMs: Date.now(),
      });
    } catch (error) {
      const f =
        error instanceof ApiError && error.status === 400 ? error.field?.replace(/^body\./, '') : undefined;
      const field: AmendField | undefined =
        f === 'energyWh' ? 'energy' : f === 'priceUnitsPerWh' ? 'price' : undefined;
      fail(
        field
          ? {
              [field]: `${field === 'energy' ? 'New total energy' : 'New price'}: the wallet-service refused it: ${(error as ApiError).message}`,
            }
          : { form: postErrorText(error) },
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="amend-form" onSubmit={submit} noValidate aria-label={`Amend ${order.side} order`}>
      <InputField
        id={ids.energy}
        label="New total energy (Wh)"
        error={errors.energy}
        inputMode="numeric"
        autoComplete="off"
        value={energy}
        onChange={(e) => setEnergy(e.target.value)}
      />
      <InputField
        id={ids.price}
        label={`New ${order.side === 'sell' ? 'price' : 'highest price'} (units per Wh)`}
        error={errors.price}
        inputMode="decimal"
        autoComplete="off"
        value={price}
        onChange={(e) => setPrice(e.target.value)}
      />
      <p className="hint">
        The total includes what is already sold ({formatWh(order.filledWh)}). More energy or a new price moves
        the order behind others at its price.
      </p>
      <FormError error={errors.form} />
      <div className="row-actions">
        <PostSubmit busy={busy}>Post amendment</PostSubmit>
        <button type="button" className="button-secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
