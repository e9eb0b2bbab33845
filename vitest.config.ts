import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{ledger,journal,payments-api,channels,market,deploy,meter-agent,wallet-service}/src/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      // Component tests in happy-dom with the React plugin.
      'dashboard/vitest.config.ts',
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
      {
        test: {
          // The dashboard in Chromium against the whole system, which each file starts itself.
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
