export * from './community/book.js';
export * from './community/delivery.js';
export * from './community/households.js';
export * from './community/reference.js';
export * from './community/run.js';
export * from './community/scale.js';
export * from './community/tables.js';
export * from './components.js';
export * from './defaults.js';
export * from './errors.js';
export {
  allPaidOnce,
  auditPayments,
  type DuePayment,
  type LedgerPayment,
  type PaymentAudit,
} from './fleet/audit.js';
export { type FleetOptions, planFleet } from './fleet/plan.js';
export { fleetHolds, fleetTable } from './fleet/report.js';
export { type FleetReport, runFleet, runFleetOnTangle } from './fleet/run.js';
export * from './household.js';
export * from './indexer.js';
export * from './install.js';
export * from './join.js';
export * from './join-bundle.js';
export * from './join-peers.js';
export * from './log.js';
export * from './month/clock.js';
export * from './month/ledger.js';
export * from './month/own-tangle.js';
export * from './month/run.js';
export * from './month/table.js';
export * from './processes.js';
export * from './profile.js';
export * from './system.js';
export * from './tangle.js';
export * from './wallet-process.js';
