/** Environment to typed, validated configuration; fails fast with a message naming the bad variable. */
import { z } from 'zod';
import { ResultPolicySetting } from './security/result-scan/policy.ts';
import { parsePolicy } from './mcp/anomaly-policy.ts';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const list = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const ConfigSchema = z.object({
  ALLOWED_ORIGINS: list.default([]),
  ALLOWED_HOSTS: list.default([]),
  ALLOW_LOCALHOST: flag.default(false),
  SESSION_IDLE_SECONDS: int(10, 7 * 24 * 3600).default(3600),
  SESSION_EVENT_LOG_MAX: int(10, 100_000).default(1000),
  /** Interval of the SSE comment heartbeat on open streams (proxies close a silent response after about 100 s). */
  SSE_HEARTBEAT_MS: int(100, 60_000).default(15_000),
  ENABLE_CONFORMANCE_PACK: flag.default(false),
  ENABLE_BENCH_FLOOR: flag.default(false),
  SQL_ROW_LIMIT: int(1, 10_000).default(200),
  SQL_TIMEOUT_MS: int(100, 60_000).default(5000),
  DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(5000),
  /** The server's public origin (issuer); the request's origin when unset (development). */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).transform((v) => v.replace(/\/+$/, '')).optional(),
  /** The upstream OpenID provider (Google in production). */
  UPSTREAM_ISSUER: z.url({ protocol: /^https?$/ }).default('https://accounts.google.com'),
  UPSTREAM_CLIENT_ID: z.string().min(1).optional(),
  UPSTREAM_SCOPE: z.string().default('openid email profile'),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 24 * 3600).default(600),
  REFRESH_TOKEN_TTL_SECONDS: int(60, 365 * 24 * 3600).default(30 * 24 * 3600),
  AUTH_CODE_TTL_SECONDS: int(10, 600).default(60),
  AUTH_TRANSACTION_TTL_SECONDS: int(60, 3600).default(600),
  REGISTRATIONS_PER_HOUR: int(1, 100_000).default(20),
  /** Audit every tool call and security event (turn off only to measure the cost). */
  AUDIT_ENABLED: flag.default(true),
  /** Events an emitting Durable Object keeps while its sink is down; a loud log line warns at 80%. */
  AUDIT_OUTBOX_MAX: int(10, 1_000_000).default(10_000),
  /** Days an audit event is kept; the embedded store purges older ones on its alarm, MySQL by `npm run db:purge-audit`. */
  AUDIT_RETENTION_DAYS: int(1, 36_500).default(400),
  /** Parameter names redacted in audit events, besides the fixed policy (comma separated). */
  AUDIT_SENSITIVE_FIELDS: list.default([]),
  /** Scan tool results for instruction-like text before they go back (docs/scanner.md); "off" only to measure the cost. */
  RESULT_SCAN: z.enum(['on', 'off']).default('on'),
  /** Serve only tools that match the signed lock (src/mcp/tool-integrity.ts); "off" only to measure the cost (issue 14), logged loudly. */
  TOOL_INTEGRITY: z.enum(['on', 'off']).default('on'),
  /** Per-tool answer to a flagged result, JSON over the defaults: {"sql_select":"block","*":"annotate"} (src/security/result-scan/policy.ts). */
  RESULT_SCAN_POLICY: ResultPolicySetting.optional(),
  /** Administrators of the console and admin API: upstream subjects or verified email addresses (comma separated). */
  ADMIN_USERS: list.default([]),
  /** Failed credentials and refused registrations: one audit event per address and kind per window of this many seconds (issue 16). */
  FAILURE_AUDIT_WINDOW_SECONDS: int(1, 3600).default(60),
  /** Run the detection rules (detections/) inside the server over the audit store (issue 16). */
  DETECTIONS_ENABLED: flag.default(true),
  /** How often the in-server detections run, in seconds. */
  DETECTIONS_INTERVAL_SECONDS: int(10, 86_400).default(300),
  /** Behavioural baselines (issue 11): score every tool call against its principal's habits (src/mcp/anomaly.ts, docs/anomaly.md). */
  ANOMALY_ENABLED: flag.default(true),
  ANOMALY_MIN_CALLS: int(1, 1_000_000).optional(),
  ANOMALY_MIN_LEARNING_SECONDS: int(0, 365 * 24 * 3600).optional(),
  ANOMALY_TOOL_MIN_CALLS: int(1, 1_000_000).optional(),
  ANOMALY_HOUR_MIN_AGE_SECONDS: int(0, 365 * 24 * 3600).optional(),
  /** What an anomaly does, per tool and principal kind (JSON; docs/anomaly.md, "Policies"). */
  ANOMALY_POLICY: z
    .string()
    .max(8192)
    .transform((text, ctx) => {
      try {
        return parsePolicy(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
    })
    .optional(),
});

/** The server's validated settings. */
export type Config = z.output<typeof ConfigSchema>;

/** Raised when the environment holds a setting that does not parse. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const cache = new WeakMap<object, Config>();

/** Parses the Worker's `env` once per env object; throws ConfigError naming each bad variable. */
export function loadConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value: unknown = Reflect.get(env, key);
    // An empty string in wrangler.toml [vars] means "not set".
    if (typeof value === 'string' && value !== '') raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
