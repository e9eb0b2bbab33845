import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            '{errors,ledger,journal,contract,tariff,channels,market,bills,deploy,meter-agent,wallet-service}/src/**/*.test.ts',
            'tests/support/**/*.test.ts',
            'tests/architecture/**/*.test.ts',
          ],
          environment: 'node',
          // Only a guard against hangs, not a speed check: some CPU-bound tests take seconds, and a busy
          // 2-core machine can slow them several times over.
          testTimeout: 30_000,
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
          // Files share one tangle and each uses its own funded genesis accounts, but every file loads that
          // tangle's node and many add their own process trees (networks, killed and restarted services,
          // agents): run them one at a time so a 2-core machine is not oversubscribed, whatever its core count.
          fileParallelism: false,
          // Waits inside the tests follow progress (tests/support/progress.ts) and fail on a stall;
          // these are only the outer bounds.
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          // The dashboard in Chromium against the whole system, which each file starts itself.
          name: 'e2e',
          include: ['tests/e2e/**/*.e2e.test.ts'],
          environment: 'node',
          // Each file starts a tangle, services, agents and a browser: one at a time, as integration files.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
