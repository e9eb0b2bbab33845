import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{ledger,journal,payments-api,channels,deploy,meter-agent,wallet-service}/src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/tangle-setup.ts'],
          // Files share one tangle; each uses its own funded genesis accounts, so they may run in parallel.
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
