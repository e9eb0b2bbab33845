export * from './client.js';
export * from './hosts.js';
export * from './schemas.js';
