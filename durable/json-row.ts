/** One row of JSON state in a Durable Object's SQLite (`<table> (id = 1, state TEXT)`), read and parsed once, then kept in memory (issue 14). */

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
  /**
   * The value as stored. The object that owns the row is its only writer and every write goes
   * through `write`, so after the first read nothing is read again; a storage failure resets the
   * object, and this with it.
   */
  #value: T | undefined;

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
    if (this.#value !== undefined) return this.#value;
    if (!this.#exists) {
      this.#exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", this.#table).toArray().length > 0;
      if (!this.#exists) return null;
    }
    // eslint-disable-next-line house-security/no-string-built-sql -- the table name is the object's constant, given at construction
    const row = this.#sql.exec<{ state: string }>(`SELECT state FROM ${this.#table} WHERE id = 1`).toArray()[0];
    if (!row) return null;
    this.#value = this.#schema.parse(JSON.parse(row.state));
    return this.#value;
  }

  /** Forgets the kept value: the next read reads storage (for tests that edit it directly). */
  forget(): void {
    this.#value = undefined;
    this.#exists = false;
  }

  /** Replaces the value (the table must have been created by the object's schema). */
  write(value: T): void {
    const text = JSON.stringify(value);
    // eslint-disable-next-line house-security/no-string-built-sql -- the table name is the object's constant, given at construction
    this.#sql.exec(`INSERT INTO ${this.#table} (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`, text);
    this.#exists = true;
    // Kept as a later read would give it back (defaults filled, undefined fields gone).
    this.#value = this.#schema.parse(JSON.parse(text));
  }
}
