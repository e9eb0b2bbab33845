export * from './dir-lock.js';
export * from './journal.js';
