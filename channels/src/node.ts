/**
 * @tanglewatt/channels for Node: everything in index.ts plus the journal-backed writer, meter DIDs
 * (@iota/identity-wasm over the SDK) and key rotation. Not for browsers.
 */
export * from './did.js';
export * from './did-resolver.js';
export * from './index.js';
export * from './journal-store.js';
export * from './rotation.js';
