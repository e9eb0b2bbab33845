export * from './client.js';
export * from './feed.js';
export * from './hosts.js';
export type * from './market.js';
export type * from './meter.js';
export * from './routes.js';
export * from './schemas.js';
export * from './tables.js';
export type * from './wallet.js';
