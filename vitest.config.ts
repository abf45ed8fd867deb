import { defineConfig } from 'vitest/config';

/**
 * Four projects, as STYLE.md lays out: `unit` needs no network and no servers, `infra` runs CDK
 * assertions and the nag packs, `workflows` runs the real ASL through the local runner against the
 * embedded S3/DynamoDB, `e2e` drives the CLI and the stages against the Twenty sandbox.
 */
export default defineConfig({
  test: {
    // Vitest's default in run mode is one worker fewer than the cores: a single worker on the 2-core
    // machines this runs on, so every file ran after the other. Most e2e time is spent waiting (rate
    // windows, ticks, child processes, the sandbox and DynamoDB threads), so two files at a time
    // overlap those waits: the whole suite went from ~15 to ~10 minutes on a loaded 2-core machine.
    maxWorkers: 2,
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000 } },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'workflows',
          include: ['test/workflows/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 120_000 },
      },
    ],
  },
});
