import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no root, no addon and no network; `native` needs root, /dev/net/tun,
// network namespaces and iperf3, and runs its files one at a time (they share the machine's CPU).
// Both build dist/ first when a source changed (scripts/vitest-build.mjs): tests that spawn
// `node bin/tunqos.js` must run the code under test, not an older build.
const globalSetup = ['scripts/vitest-build.mjs'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          globalSetup,
        },
      },
      {
        test: {
          name: 'native',
          include: ['native-tests/**/*.test.ts'],
          environment: 'node',
          globalSetup,
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
