export * from './compaction.js';
export * from './dir-lock.js';
export * from './errors.js';
export * from './fake-files.js';
export * from './files.js';
export * from './journal.js';
export * from './sizes.js';
