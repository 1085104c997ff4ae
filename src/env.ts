/** The bindings the Worker and its Durable Objects receive. */
import type { McpSession } from '../durable/session.ts';
import type { EmbeddedDatabase } from '../durable/embedded-db.ts';

/** Worker environment: Durable Object namespaces, the optional Hyperdrive binding and [vars]. */
export interface Env {
  MCP_SESSION: DurableObjectNamespace<McpSession>;
  EMBEDDED_DB: DurableObjectNamespace<EmbeddedDatabase>;
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
}
