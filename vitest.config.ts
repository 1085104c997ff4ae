// Three test projects: "workers" runs inside workerd (the real runtime); "tooling" checks the structure and the project's own rules in Node; "e2e" runs in Node against a real server.
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
// @ts-expect-error -- plain ES module without type declarations
import { generateIdSecret, generateSigningKey } from './bin/lib/keys.mjs';

// Set by bin/test.mjs after it starts a private MariaDB; MySQL tests are refused (not skipped) without it.
const mysqlUrl = process.env.TEST_MYSQL_URL;
// Set by bin/test.mjs after it starts the local OpenID provider (the upstream IdP).
const idp = process.env.TEST_IDP_ISSUER;
// A fresh signing key per run, like a deployment's OAUTH_SIGNING_KEY secret.
const signingKey: string = await generateSigningKey();

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                SESSION_IDLE_SECONDS: '60',
                SESSION_EVENT_LOG_MAX: '20',
                SQL_TIMEOUT_MS: '4000',
                SQL_ROW_LIMIT: '50',
                OAUTH_SIGNING_KEY: signingKey,
                ID_SECRET: generateIdSecret() as string,
                ADMIN_SECRET: generateIdSecret() as string,
                // The alarm-driven detections stay off so other files' alarms add no detection.fired; test/integration/detections.test.ts runs them explicitly.
                DETECTIONS_ENABLED: 'false',
                // Fuzz settings (`npm run fuzz` sets them; the normal run uses a small fixed-seed slice).
                FUZZ_RUNS: process.env.FUZZ_RUNS ?? '',
                FUZZ_SEED: process.env.FUZZ_SEED ?? '',
                FUZZ_TIME_MS: process.env.FUZZ_TIME_MS ?? '',
                ...(idp ? { UPSTREAM_ISSUER: idp, UPSTREAM_CLIENT_ID: 'own-mcp-test', UPSTREAM_CLIENT_SECRET: process.env.TEST_IDP_CLIENT_SECRET ?? '' } : {}),
              },
              hyperdrives: mysqlUrl
                ? { TEST_HYPERDRIVE: mysqlUrl, TEST_HYPERDRIVE_DOWN: 'mysql://mcp_reader:x@127.0.0.1:9/support' }
                : {},
            },
          }),
        ],
        test: { name: 'workers', include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        // Behavioural baselines (issue 11) on settings that learn within a test: 5 calls, no minimum
        // age, tool statistics after 3 calls, and policies that block, throttle and ask for a sign-in.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                SESSION_IDLE_SECONDS: '60',
                SQL_ROW_LIMIT: '50',
                OAUTH_SIGNING_KEY: signingKey,
                ID_SECRET: generateIdSecret() as string,
                ADMIN_SECRET: generateIdSecret() as string,
                ANOMALY_MIN_CALLS: '5',
                ANOMALY_MIN_LEARNING_SECONDS: '0',
                ANOMALY_TOOL_MIN_CALLS: '3',
                ANOMALY_POLICY: JSON.stringify({
                  tools: { describe_table: { agent: 'block', machine: 'block', person: 'reauth' }, sql_select: { agent: 'throttle' }, list_tables: { agent: 'alert', person: 'alert' } },
                  duration_seconds: 600,
                  throttle: { requests: 2, per_seconds: 3600 },
                }),
                ...(idp ? { UPSTREAM_ISSUER: idp, UPSTREAM_CLIENT_ID: 'own-mcp-test', UPSTREAM_CLIENT_SECRET: process.env.TEST_IDP_CLIENT_SECRET ?? '' } : {}),
              },
            },
          }),
        ],
        test: { name: 'anomaly', include: ['test/anomaly/**/*.test.ts'], testTimeout: 30_000 },
      },
      {
        // The project's own structure and tooling in Node, no server needed: the layer rules
        // (dependency-cruiser), the storage document, the lint rules.
        test: { name: 'tooling', include: ['test/architecture/**/*.test.ts', 'test/tooling/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
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
