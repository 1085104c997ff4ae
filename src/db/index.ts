/** Chooses the data adapter: MySQL when a Hyperdrive binding is configured, the embedded database otherwise. */
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { EmbeddedPort } from './embedded.ts';
import { MysqlPort } from './mysql.ts';
import type { DataPort } from './port.ts';

/** The data port for this environment. */
export function dataPort(env: Env, config: Config): DataPort {
  if (env.HYPERDRIVE) {
    const h = env.HYPERDRIVE;
    return new MysqlPort({ host: h.host, port: h.port, user: h.user, password: h.password, database: h.database }, config.DB_CONNECT_TIMEOUT_MS);
  }
  return new EmbeddedPort(env.EMBEDDED_DB);
}
