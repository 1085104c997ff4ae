/** The authorization transaction's storage (tables, the one-row state) and the fresh secrets its transitions need. */
import { sha256Base64url } from '../src/auth/encoding.ts';
import { randomToken } from '../src/lib/random.ts';
import { s256Challenge } from '../src/auth/pkce.ts';
import type { FreshSecret, UpstreamSecrets } from '../src/auth/transaction/machine.ts';
import { TxnSchema, type RefreshStatus, type Txn } from '../src/auth/transaction/state.ts';

/** The transaction's tables (created by the first state written, never by a lookup). */
export const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS txn (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, attached_at INTEGER NOT NULL)',
];

/** A fresh 256-bit secret and its SHA-256. */
export async function freshSecret(): Promise<FreshSecret> {
  const secret = randomToken();
  return { secret, hash: await sha256Base64url(secret) };
}

/** Fresh upstream `state` (prefixed with the transaction id, so the callback finds us), nonce and PKCE verifier, with their digests. */
export async function upstreamSecrets(id: string): Promise<UpstreamSecrets> {
  const state = `${id}.${randomToken()}`;
  const nonce = randomToken();
  const verifier = randomToken(48);
  const [stateHash, challenge] = await Promise.all([sha256Base64url(state), s256Challenge(verifier)]);
  return { state, stateHash, nonce, verifier, challenge };
}

/** The transaction's tables in one object's SQLite; reads see nothing (and create nothing) until the first write. */
export class TxnTables {
  readonly #sql: SqlStorage;
  #created = false;
  /** The last state text read and its parse: read every time, parsed only when it changed (the machine never mutates a state). */
  #parsed: { text: string; txn: Txn } | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** The stored state, or null when there is none. */
  read(): Txn | null {
    if (!this.#exists()) return null;
    const row = this.#sql.exec<{ state: string }>('SELECT state FROM txn WHERE id = 1').toArray()[0];
    if (!row) return null;
    if (this.#parsed?.text === row.state) return this.#parsed.txn;
    const txn = TxnSchema.parse(JSON.parse(row.state));
    this.#parsed = { text: row.state, txn };
    return txn;
  }

  /** Writes the state, creating the tables first if needed. */
  write(txn: Txn): void {
    if (!this.#exists()) {
      for (const statement of SCHEMA) this.#sql.exec(statement);
      this.#created = true;
    }
    this.#sql.exec('INSERT INTO txn (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state', JSON.stringify(txn));
  }

  /** The status of a refresh token by its hash; null when it is not this grant's. */
  refreshStatus(hash: string): RefreshStatus | null {
    if (!this.#exists()) return null;
    const row = this.#sql.exec<{ status: string }>('SELECT status FROM refresh_tokens WHERE hash = ?', hash).toArray()[0];
    return row?.status === 'active' || row?.status === 'rotated' || row?.status === 'revoked' ? row.status : null;
  }

  /** Stores a new active refresh token. */
  storeRefresh(hash: string, createdAt: number): void {
    this.#sql.exec("INSERT INTO refresh_tokens (hash, status, created_at) VALUES (?, 'active', ?)", hash, createdAt);
  }

  /** Marks a refresh token rotated. */
  rotateRefresh(hash: string): void {
    this.#sql.exec("UPDATE refresh_tokens SET status = 'rotated' WHERE hash = ?", hash);
  }

  /** Marks every active refresh token revoked. */
  revokeRefreshTokens(): void {
    this.#sql.exec("UPDATE refresh_tokens SET status = 'revoked' WHERE status = 'active'");
  }

  /** Remembers a session of this grant. */
  attachSession(sessionId: string, attachedAt: number): void {
    this.#sql.exec('INSERT OR IGNORE INTO sessions (session_id, attached_at) VALUES (?, ?)', sessionId, attachedAt);
  }

  /** The sessions to tell when the grant is revoked. */
  sessions(): string[] {
    if (!this.#exists()) return [];
    return this.#sql.exec<{ session_id: string }>('SELECT session_id FROM sessions').toArray().map((r) => r.session_id);
  }

  /** Refresh tokens in creation order (diagnostics). */
  refreshTokens(): Array<{ status: string }> {
    if (!this.#exists()) return [];
    return this.#sql.exec<{ status: string }>('SELECT status FROM refresh_tokens ORDER BY created_at').toArray();
  }

  /** Forgets that the tables exist (after the object's storage was deleted). */
  forget(): void {
    this.#created = false;
  }

  #exists(): boolean {
    if (!this.#created) this.#created = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'txn'").toArray().length > 0;
    return this.#created;
  }
}
