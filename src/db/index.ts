/** Chooses the adapters: for the tools' data, MySQL when HYPERDRIVE is configured; for the audit trail, MySQL when AUDIT_HYPERDRIVE is; the embedded Durable Objects otherwise. */
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { EmbeddedAuditPort } from './audit-embedded.ts';
import { MysqlAuditPort } from './audit-mysql.ts';
import type { AuditPort } from './audit-port.ts';
import { EmbeddedPort } from './embedded.ts';
import { MysqlPort } from './mysql.ts';
import type { MysqlTarget } from './mysql-connection.ts';
import type { DataPort } from './port.ts';

/** Each audit connect and statement is abandoned after this long (the outbox retries). */
const AUDIT_TIMEOUT_MS = 5000;

/** The data port for this environment (the read-only tool credentials). */
export function dataPort(env: Env, config: Config): DataPort {
  if (env.HYPERDRIVE) return new MysqlPort(mysqlTarget(env.HYPERDRIVE), config.DB_CONNECT_TIMEOUT_MS);
  return new EmbeddedPort(env.EMBEDDED_DB);
}

/** The audit port for this environment (the audit writer's own credentials, never the tools'). */
export function auditPort(env: Env): AuditPort {
  if (env.AUDIT_HYPERDRIVE) return new MysqlAuditPort(mysqlTarget(env.AUDIT_HYPERDRIVE), AUDIT_TIMEOUT_MS);
  return new EmbeddedAuditPort(env.AUDIT_STORE);
}

function mysqlTarget(h: Hyperdrive): MysqlTarget {
  return { host: h.host, port: h.port, user: h.user, password: h.password, database: h.database };
}
