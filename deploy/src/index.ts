export * from './components.js';
export * from './defaults.js';
export * from './errors.js';
export * from './install.js';
export * from './log.js';
export * from './processes.js';
export * from './profile.js';
export * from './tangle.js';
