import { defineConfig } from 'vitest/config';

/**
 * Four projects, as STYLE.md lays out: `unit` needs no network and no servers, `infra` runs CDK
 * assertions and the nag packs, `workflows` runs the real ASL through the local runner against the
 * embedded S3/DynamoDB, `e2e` drives the CLI and the stages against the Twenty sandbox.
 */
export default defineConfig({
  test: {
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
