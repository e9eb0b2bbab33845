import { type FormEvent, useId, useState } from 'react';
import { ApiError } from '../../api/http';
import type { MarketBook, Posted, Side } from '../../api/market';
import type { WalletClient } from '../../api/wallet';
import { formatAmountLine, type TokenInfo } from '../../format/amount';
import { Field, FormError, InputField, PostSubmit } from './fields';
import {
  checkBuy,
  checkSell,
  defaultOrderValues,
  type EnergyUnit,
  type FieldErrors,
  fieldOf,
  formatWh,
  type OrderField,
  type OrderFormValues,
  type PostRecord,
  parseEnergy,
  parsePrice,
  priceLabel,
  pricePerKWh,
  valueUnits,
} from './model';
import { PostStatus, postErrorText } from './parts';

const fieldOrder: OrderField[] = ['energy', 'price', 'start', 'end', 'minLot'];
const fieldNames: Record<OrderField, (side: Side) => string> = {
  energy: () => 'Energy',
  price: priceLabel,
  start: () => 'Window start',
  end: () => 'Window end',
  minLot: () => 'Minimum lot',
};

/** Typed amounts: a decimal keypad on phones, no autofill. */
const typed = { inputMode: 'decimal', autoComplete: 'off' } as const;

function zoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'local time';
  }
}

/**
 * "Sell energy" / "Buy energy": checked here first (each message names its field), then posted; a 400
 * from the wallet-service is shown at the field it names. After posting, the status follows the message
 * into the book.
 */
export function OrderForm({
  side,
  client,
  token,
  book,
  onPosted,
}: {
  side: Side;
  client: WalletClient;
  token: TokenInfo;
  book: MarketBook | undefined;
  onPosted: (post: PostRecord) => void;
}) {
  const [values, setValues] = useState<OrderFormValues>(() => defaultOrderValues(Date.now()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [last, setLast] = useState<PostRecord | undefined>(undefined);
  const base = useId();
  const id = (f: OrderField | 'unit') => `${base}-${f}`;
  const headingId = `${base}-heading`;
  const title = side === 'sell' ? 'Sell energy' : 'Buy energy';

  const set = (field: keyof OrderFormValues) => (e: { target: { value: string } }) => {
    const value = e.target.value;
    setValues((v) => ({ ...v, [field]: value }));
  };
  /** Shows the errors and takes the keyboard to the first field at fault. */
  const fail = (errs: FieldErrors) => {
    setErrors(errs);
    const first = fieldOrder.find((f) => errs[f]);
    if (first) document.getElementById(id(first))?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const now = Date.now();
    let post: () => Promise<Posted>;
    if (side === 'sell') {
      const checked = checkSell(values, now);
      if (!checked.ok) return fail(checked.errors);
      post = () => client.sell(checked.request);
    } else {
      const checked = checkBuy(values, now);
      if (!checked.ok) return fail(checked.errors);
      post = () => client.buy(checked.request);
    }
    setErrors({});
    setBusy(true);
    try {
      const posted = await post();
      const record: PostRecord = {
        kind: side,
        messageId: posted.messageId,
        blockId: posted.blockId,
        atMs: Date.now(),
      };
      setLast(record);
      onPosted(record);
    } catch (error) {
      const field =
        error instanceof ApiError && error.status === 400 ? fieldOf(error.field, error.message) : undefined;
      fail(
        field
          ? {
              [field]: `${fieldNames[field](side)}: the wallet-service refused it: ${(error as ApiError).message}`,
            }
          : { form: postErrorText(error) },
      );
    } finally {
      setBusy(false);
    }
  };

  // Live echoes of what will be sent: whole Wh, the price per kWh in tokens, and what it comes to.
  const energy = parseEnergy(values.energy, values.unit);
  const price = parsePrice(values.price);
  const energyHint =
    values.unit === 'kWh' && energy.ok
      ? `= ${formatWh(energy.value)}`
      : 'Whole Wh, or kWh with up to 3 decimals.';
  const priceHint = price.ok
    ? `= ${pricePerKWh(price.value, token)}`
    : 'Base units per Wh, such as 250 or 0.5.';
  const value = energy.ok && price.ok ? valueUnits(energy.value, price.value) : undefined;
  return (
    <form className="order-form" onSubmit={submit} noValidate aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
      <Field id={id('energy')} label="Energy" hint={energyHint} error={errors.energy}>
        {(describedBy) => (
          <div className="field-row">
            <input
              id={id('energy')}
              name="energy"
              inputMode="decimal"
              autoComplete="off"
              value={values.energy}
              onChange={set('energy')}
              aria-invalid={errors.energy ? true : undefined}
              aria-describedby={describedBy}
            />
            <select
              id={id('unit')}
              aria-label="Energy unit"
              value={values.unit}
              onChange={(e) => setValues((v) => ({ ...v, unit: e.target.value as EnergyUnit }))}
            >
              <option value="Wh">Wh</option>
              <option value="kWh">kWh</option>
            </select>
          </div>
        )}
      </Field>
      <InputField
        id={id('price')}
        name="price"
        label={`${priceLabel(side)} (base units per Wh)`}
        hint={priceHint}
        error={errors.price}
        {...typed}
        value={values.price}
        onChange={set('price')}
      />
      <fieldset className="window-fields">
        <legend>Delivery window</legend>
        <div className="field-pair">
          {(['start', 'end'] as const).map((f) => (
            <InputField
              key={f}
              id={id(f)}
              name={f}
              label={f === 'start' ? 'Start' : 'End'}
              error={errors[f]}
              type="datetime-local"
              value={values[f]}
              onChange={set(f)}
            />
          ))}
        </div>
        <p className="hint">In your time zone ({zoneName()}).</p>
      </fieldset>
      {side === 'sell' && (
        <InputField
          id={id('minLot')}
          name="minLot"
          label={`Minimum lot (${values.unit}, optional)`}
          hint="No buyer takes less than this, unless it takes all that is left."
          error={errors.minLot}
          {...typed}
          value={values.minLot}
          onChange={set('minLot')}
        />
      )}
      <p className="hint" aria-live="polite">
        {value !== undefined
          ? `${side === 'sell' ? 'Worth' : 'At most'} ${formatAmountLine(value, token)} in all.`
          : ''}
      </p>
      <FormError error={errors.form} />
      <PostSubmit busy={busy}>{side === 'sell' ? 'Post sell offer' : 'Post buy order'}</PostSubmit>
      {last && <PostStatus post={last} book={book} />}
    </form>
  );
}
