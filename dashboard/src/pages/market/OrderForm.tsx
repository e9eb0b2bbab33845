import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { ApiError } from '../../api/http';
import type { MarketBook, Posted, Side } from '../../api/market';
import type { WalletClient } from '../../api/wallet';
import { formatAmountLine, type TokenInfo } from '../../format/amount';
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

function zoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'local time';
  }
}

/** One input with its label, hint and error, wired for screen readers (aria-invalid, aria-describedby). */
function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  error: string | undefined;
  children: (describedBy: string | undefined) => ReactNode;
}) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(describedBy || undefined)}
      {hint && (
        <p id={`${id}-hint`} className="hint field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
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
  const invalid = (f: OrderField) => (errors[f] ? true : undefined);

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
              aria-invalid={invalid('energy')}
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
      <Field
        id={id('price')}
        label={`${priceLabel(side)} (base units per Wh)`}
        hint={priceHint}
        error={errors.price}
      >
        {(describedBy) => (
          <input
            id={id('price')}
            name="price"
            inputMode="decimal"
            autoComplete="off"
            value={values.price}
            onChange={set('price')}
            aria-invalid={invalid('price')}
            aria-describedby={describedBy}
          />
        )}
      </Field>
      <fieldset className="window-fields">
        <legend>Delivery window</legend>
        <div className="field-pair">
          <Field id={id('start')} label="Start" error={errors.start}>
            {(describedBy) => (
              <input
                id={id('start')}
                name="start"
                type="datetime-local"
                value={values.start}
                onChange={set('start')}
                aria-invalid={invalid('start')}
                aria-describedby={describedBy}
              />
            )}
          </Field>
          <Field id={id('end')} label="End" error={errors.end}>
            {(describedBy) => (
              <input
                id={id('end')}
                name="end"
                type="datetime-local"
                value={values.end}
                onChange={set('end')}
                aria-invalid={invalid('end')}
                aria-describedby={describedBy}
              />
            )}
          </Field>
        </div>
        <p className="hint">In your time zone ({zoneName()}).</p>
      </fieldset>
      {side === 'sell' && (
        <Field
          id={id('minLot')}
          label={`Minimum lot (${values.unit}, optional)`}
          hint="No buyer takes less than this, unless it takes all that is left."
          error={errors.minLot}
        >
          {(describedBy) => (
            <input
              id={id('minLot')}
              name="minLot"
              inputMode="decimal"
              autoComplete="off"
              value={values.minLot}
              onChange={set('minLot')}
              aria-invalid={invalid('minLot')}
              aria-describedby={describedBy}
            />
          )}
        </Field>
      )}
      <p className="hint" aria-live="polite">
        {value !== undefined
          ? `${side === 'sell' ? 'Worth' : 'At most'} ${formatAmountLine(value, token)} in all.`
          : ''}
      </p>
      {errors.form && (
        <p className="field-error" role="alert">
          {errors.form}
        </p>
      )}
      <button type="submit" disabled={busy} aria-busy={busy || undefined}>
        {busy ? 'Posting…' : side === 'sell' ? 'Post sell offer' : 'Post buy order'}
      </button>
      {last && <PostStatus post={last} book={book} />}
    </form>
  );
}
