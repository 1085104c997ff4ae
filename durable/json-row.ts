/** One row of JSON state in a Durable Object's SQLite (`<table> (id = 1, state TEXT)`), read on every call, parsed only when its text changed. */

/** Anything that turns stored JSON back into a checked value (a zod schema). */
export interface RowSchema<T> {
  parse(data: unknown): T;
}

/**
 * Reads and writes the single state row of `table`. Until the table exists nothing is read:
 * an object that was never created answers null without creating storage.
 */
export class JsonRow<T> {
  readonly #sql: SqlStorage;
  readonly #table: string;
  readonly #schema: RowSchema<T>;
  #exists = false;
  /** The last text read and its parsed value: the row is read every time, parsed (JSON and schema) only when it differs. */
  #parsed: { text: string; value: T } | undefined;

  constructor(sql: SqlStorage, table: string, schema: RowSchema<T>) {
    this.#sql = sql;
    this.#table = table;
    this.#schema = schema;
  }

  /**
   * The stored value, or null when the table or its row does not exist yet. Callers share the
   * returned value and must not change it (they write a new one).
   */
  read(): T | null {
    if (!this.#exists) {
      this.#exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.#table).toArray().length > 0;
      if (!this.#exists) return null;
    }
    // eslint-disable-next-line house-security/no-string-built-sql -- the table name is the object's constant, given at construction
    const row = this.#sql.exec<{ state: string }>(`SELECT state FROM ${this.#table} WHERE id = 1`).toArray()[0];
    if (!row) return null;
    if (this.#parsed?.text === row.state) return this.#parsed.value;
    const value = this.#schema.parse(JSON.parse(row.state));
    this.#parsed = { text: row.state, value };
    return value;
  }

  /** Replaces the value (the table must have been created by the object's schema). */
  write(value: T): void {
    // eslint-disable-next-line house-security/no-string-built-sql -- the table name is the object's constant, given at construction
    this.#sql.exec(`INSERT INTO ${this.#table} (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`, JSON.stringify(value));
    this.#exists = true;
  }
}
