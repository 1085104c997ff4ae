// Builds a ToolContext over a real data port, and runs catalog tools directly in workerd.
import { env } from 'cloudflare:workers';
import { loadConfig } from '../../src/config.ts';
import { EmbeddedPort } from '../../src/db/embedded.ts';
import { MysqlPort } from '../../src/db/mysql.ts';
import type { DataPort } from '../../src/db/port.ts';
import type { ToolContext } from '../../src/mcp/catalog.ts';
import { CATALOG } from '../../src/mcp/server.ts';

/** The test settings: small row limit and short timeouts (see vitest.config.ts). */
export const config = loadConfig(env);

/** The embedded adapter over the real EmbeddedDatabase Durable Object. */
export function embeddedPort(): DataPort {
  return new EmbeddedPort(env.EMBEDDED_DB);
}

function fromHyperdrive(h: Hyperdrive | undefined, what: string): DataPort {
  if (!h) throw new Error(`${what} is not configured: run the tests with \`npm test\`, which starts MariaDB`);
  return new MysqlPort({ host: h.host, port: h.port, user: h.user, password: h.password, database: h.database }, 5000);
}

/** The MySQL adapter over Hyperdrive to the MariaDB the test run started, as the read-only user. */
export function mysqlPort(): DataPort {
  return fromHyperdrive(env.TEST_HYPERDRIVE, 'TEST_HYPERDRIVE');
}

/** The MySQL adapter pointed at a port where nothing listens. */
export function downPort(): DataPort {
  return fromHyperdrive(env.TEST_HYPERDRIVE_DOWN, 'TEST_HYPERDRIVE_DOWN');
}

/** Calls a catalog tool as a session would, collecting the progress and log notifications it sends. */
export async function runTool(db: DataPort, name: string, args: unknown, signal = new AbortController().signal) {
  const tool = CATALOG.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name}`);
  const progress: Array<[number, number, string]> = [];
  const logs: unknown[] = [];
  const ctx: ToolContext = {
    db,
    config,
    principal: { kind: 'user', id: 'u_test', clientId: 'test-client', grantId: 'g'.repeat(43), tokenId: 't'.repeat(22), scopes: ['support:read', 'sql:read'] },
    signal,
    async progress(p, total, message) {
      progress.push([p, total, message]);
    },
    async log(_level, data) {
      logs.push(data);
    },
  };
  let result;
  try {
    result = await tool.call(args, ctx);
  } catch (error) {
    return { error, progress, logs };
  }
  return { result, progress, logs };
}
