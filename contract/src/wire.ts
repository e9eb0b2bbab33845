/**
 * The contract without zod: every wire type, and the few small tables a browser shows. A page imports
 * from here (`@tanglewatt/contract/wire`); its types vanish from the bundle and only tables.ts stays.
 */
export type * from './bills.js';
export type * from './feed.js';
export { nodeStatusOf } from './feed.js';
export type * from './market.js';
export type * from './meter.js';
export type { ApiErrorBody, Balance, Payment, PaymentMetadata, ReceivedPayment } from './schemas.js';
export * from './tables.js';
export type * from './wallet.js';
