export * from './client.js';
export * from './hosts.js';
export * from './routes.js';
export * from './schemas.js';
