/**
 * @tanglewatt/channels — browser-safe core: wire format, codecs, crypto, writer, reader, Merkle roots and
 * period verification. Node-only parts (journal store, DIDs through @iota/identity-wasm) are in node.ts.
 */
export * from './bytes.js';
export * from './crypto.js';
export * from './errors.js';
export * from './format.js';
export * from './merkle.js';
export * from './message.js';
export * from './payload.js';
export * from './period.js';
export * from './period-refs.js';
export * from './reader.js';
export * from './reattached.js';
export * from './record-view.js';
export * from './records-export.js';
export * from './records-verify.js';
export * from './signers.js';
export * from './sources.js';
export * from './verify-payment.js';
export * from './writer.js';
