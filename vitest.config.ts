import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no root, no addon and no network; `native` needs root, /dev/net/tun,
// network namespaces and iperf3, and runs its files one at a time (they share the machine's CPU).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'native',
          include: ['native-tests/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
