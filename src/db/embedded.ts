/** Embedded adapter of the data port: forwards to the EmbeddedDatabase Durable Object's SQLite. */
import type { EmbeddedAnswer, EmbeddedDatabaseObject } from '../contracts/embedded-db.ts';
import { ToolError } from '../errors.ts';
import type { ColumnInfo, DataPort, QueryLimits, QueryResult, SqlValue, TableInfo } from './port.ts';

/** Reads the demo data from the single "default" EmbeddedDatabase instance. */
export class EmbeddedPort implements DataPort {
  readonly kind = 'embedded';
  readonly dialect = 'sqlite';
  readonly #db: DurableObjectStub<EmbeddedDatabaseObject>;

  constructor(namespace: DurableObjectNamespace<EmbeddedDatabaseObject>) {
    this.#db = namespace.get(namespace.idFromName('default'));
  }

  async select(sql: string, params: readonly SqlValue[], limits: QueryLimits): Promise<QueryResult> {
    return unwrap(await within(limits, this.#db.select(sql, [...params], limits.maxRows)));
  }

  async listTables(limits: QueryLimits): Promise<TableInfo[]> {
    return unwrap(await within(limits, this.#db.listTables()));
  }

  async describeTable(name: string, limits: QueryLimits): Promise<ColumnInfo[] | null> {
    return unwrap(await within(limits, this.#db.describeTable(name)));
  }
}

/**
 * The caller stops waiting after the time limit. SQLite in a Durable Object cannot be
 * interrupted, so a runaway query still occupies the embedded database until it ends.
 */
async function within<T>(limits: QueryLimits, answer: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ToolError('db_timeout', 'the query ran past its time limit')), limits.timeoutMs);
  });
  try {
    return await Promise.race([answer, late]);
  } catch (error) {
    if (error instanceof ToolError) throw error;
    throw new ToolError('db_unavailable', 'the embedded database is unavailable');
  } finally {
    clearTimeout(timer);
  }
}

function unwrap<T>(answer: EmbeddedAnswer<T>): T {
  if (answer.error === undefined && answer.value !== undefined) return answer.value;
  throw new ToolError('db_query_failed', (answer.error ?? 'no result').replace(/^Error: /, ''));
}
