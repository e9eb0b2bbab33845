/** @tanglewatt/bills: member bills from the ledger and the meter channels. */

export * from './allocation.js';
export * from './allocation-config.js';
export * from './allocation-cycle.js';
export * from './allocation-format.js';
export * from './allocation-read.js';
export * from './allocation-verify.js';
export * from './build.js';
export * from './config.js';
export * from './csv.js';
export * from './describe.js';
export * from './errors.js';
export * from './exact.js';
export * from './indexer-blocks.js';
export * from './json.js';
export * from './make.js';
export * from './meters.js';
export * from './pdf.js';
export * from './reader.js';
export * from './summary.js';
export * from './verify.js';
export * from './verify-ledger.js';
