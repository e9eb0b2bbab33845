import { CodedError } from '@tanglewatt/errors';

export type TariffErrorCode =
  /** A tariff schedule or history that fails validation: the message names the field and what is allowed. */
  | 'INVALID_TARIFF'
  /** A period, sample, key or register input that fails validation. */
  | 'INVALID_INPUT'
  /** No tariff version is in force at an instant that has energy to price. */
  | 'NO_TARIFF';

/** Misuse of the tariff engine: always one line, naming the field and what is allowed. */
export class TariffError extends CodedError<TariffErrorCode> {
  override name = 'TariffError';
}
