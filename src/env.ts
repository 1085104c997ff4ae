/** The bindings the Worker and its Durable Objects receive. */
import type { AlertHubObject } from './contracts/alert-hub.ts';
import type { AuthTransactionObject } from './contracts/auth-transaction.ts';
import type { ApiKeyObject } from './contracts/api-key.ts';
import type { AuditRelayObject } from './contracts/audit-relay.ts';
import type { AuditStoreObject } from './contracts/audit-store.ts';
import type { ClientRegistryObject } from './contracts/client-registry.ts';
import type { EmbeddedDatabaseObject } from './contracts/embedded-db.ts';
import type { FailureCounterObject } from './contracts/failure-counter.ts';
import type { McpSessionObject } from './contracts/session.ts';
import type { SessionIndexObject } from './contracts/session-index.ts';

/** Worker environment: Durable Object namespaces (typed by their contracts in src/contracts/), the optional Hyperdrive binding and [vars]. */
export interface Env {
  MCP_SESSION: DurableObjectNamespace<McpSessionObject>;
  EMBEDDED_DB: DurableObjectNamespace<EmbeddedDatabaseObject>;
  AUTH_TXN: DurableObjectNamespace<AuthTransactionObject>;
  CLIENTS: DurableObjectNamespace<ClientRegistryObject>;
  API_KEY: DurableObjectNamespace<ApiKeyObject>;
  AUDIT_STORE: DurableObjectNamespace<AuditStoreObject>;
  /** Issue 14: one audit outbox per principal for its requests that reach no session (stateless calls, scope refusals). */
  AUDIT_RELAY: DurableObjectNamespace<AuditRelayObject>;
  /** Bounded failure summaries (issue 16): one object per caller address. Optional: without it failures are only refused. */
  FAILURE_COUNTER?: DurableObjectNamespace<FailureCounterObject>;
  /** The open-session index (issue 12), sharded; optional: without it the console lists no open sessions. */
  SESSION_INDEX?: DurableObjectNamespace<SessionIndexObject>;
  /** The alert hub (agents' Agent class): anomaly alerts, detections, flagged tool results. Optional until its binding is configured. */
  ALERT_HUB?: DurableObjectNamespace<AlertHubObject>;
  /** MySQL for the audit trail (a user with INSERT and SELECT on audit_events only); the embedded AuditStore otherwise. */
  AUDIT_HYPERDRIVE?: Hyperdrive;
  AUDIT_ENABLED?: string;
  AUDIT_OUTBOX_MAX?: string;
  AUDIT_SENSITIVE_FIELDS?: string;
  /** "on" (default) or "off": scan tool results before they go back. */
  RESULT_SCAN?: string;
  /** JSON: per-tool answer to a flagged result (annotate, redact, block) over the defaults. */
  RESULT_SCAN_POLICY?: string;
  FAILURE_AUDIT_WINDOW_SECONDS?: string;
  DETECTIONS_ENABLED?: string;
  DETECTIONS_INTERVAL_SECONDS?: string;
  ANOMALY_ENABLED?: string;
  ANOMALY_MIN_CALLS?: string;
  ANOMALY_MIN_LEARNING_SECONDS?: string;
  ANOMALY_TOOL_MIN_CALLS?: string;
  ANOMALY_HOUR_MIN_AGE_SECONDS?: string;
  ANOMALY_POLICY?: string;
  /** Optional push sink: every delivered batch is POSTed here as signed NDJSON. */
  AUDIT_WEBHOOK_URL?: string;
  /** Secret: the HMAC key of the webhook signature (32+ characters). */
  AUDIT_WEBHOOK_SECRET?: string;
  /** Present when MySQL is configured; the embedded database is used otherwise. */
  HYPERDRIVE?: Hyperdrive;
  ALLOWED_ORIGINS?: string;
  ALLOWED_HOSTS?: string;
  ALLOW_LOCALHOST?: string;
  SESSION_IDLE_SECONDS?: string;
  SESSION_EVENT_LOG_MAX?: string;
  ENABLE_CONFORMANCE_PACK?: string;
  ENABLE_BENCH_FLOOR?: string;
  SQL_ROW_LIMIT?: string;
  SQL_TIMEOUT_MS?: string;
  DB_CONNECT_TIMEOUT_MS?: string;
  PUBLIC_URL?: string;
  UPSTREAM_ISSUER?: string;
  UPSTREAM_CLIENT_ID?: string;
  UPSTREAM_SCOPE?: string;
  ACCESS_TOKEN_TTL_SECONDS?: string;
  REFRESH_TOKEN_TTL_SECONDS?: string;
  AUTH_CODE_TTL_SECONDS?: string;
  AUTH_TRANSACTION_TTL_SECONDS?: string;
  REGISTRATIONS_PER_HOUR?: string;
  /** Secret: the upstream OpenID client's secret. */
  UPSTREAM_CLIENT_SECRET?: string;
  /** Secret: the private EC P-256 JWK that signs access tokens. */
  OAUTH_SIGNING_KEY?: string;
  /** Secret: 32+ random bytes (base64url) that tag session and grant ids so forged ones are refused without I/O. */
  ID_SECRET?: string;
  /** Secret: the bootstrap admin credential for /admin (Authorization: Bearer <ADMIN_SECRET>), 32+ characters. */
  ADMIN_SECRET?: string;
  /** Administrators who sign in to the console: upstream subjects or verified email addresses, comma separated. */
  ADMIN_USERS?: string;
  /** Optional: public JWKs of previous signing keys still accepted (JSON array). */
  OAUTH_PREVIOUS_PUBLIC_KEYS?: string;
}
