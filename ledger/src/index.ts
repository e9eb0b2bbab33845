export * from './cone.js';
export * from './conflicts.js';
export * from './errors.js';
export * from './genesis.js';
export * from './indexer-api.js';
export * from './node-api.js';
export * from './outputs.js';
export * from './sdk.js';
