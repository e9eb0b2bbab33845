export * from './errors.js';
export * from './modes.js';
export * from './pricing.js';
export type { Rational } from './rational.js';
export * as rational from './rational.js';
export * from './registers.js';
export * from './schedule.js';
export { instantAtLocal, isTimeZone, localTime } from './zone.js';
