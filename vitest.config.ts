// Two test projects: "workers" runs inside workerd (the real runtime); "e2e" runs in Node against a real server.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Set by bin/test.mjs after it starts a private MariaDB; MySQL tests are refused (not skipped) without it.
const mysqlUrl = process.env.TEST_MYSQL_URL;

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { SESSION_IDLE_SECONDS: '60', SESSION_EVENT_LOG_MAX: '20', SQL_TIMEOUT_MS: '1500', SQL_ROW_LIMIT: '50' },
              hyperdrives: mysqlUrl
                ? { TEST_HYPERDRIVE: mysqlUrl, TEST_HYPERDRIVE_DOWN: 'mysql://mcp_reader:x@127.0.0.1:9/support' }
                : {},
            },
          }),
        ],
        test: { name: 'workers', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'] },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
