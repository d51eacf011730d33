import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Interop suites start real peers (notary-server, registry, postgres); give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: run files in parallel but not more than the machine can carry.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
