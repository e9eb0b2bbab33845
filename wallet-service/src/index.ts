export * from './config.js';
export * from './keystore.js';
export * from './market.js';
export * from './payments-store.js';
export * from './secrets.js';
export * from './service.js';
export * from './settlement.js';
export * from './wallet-ledger.js';
