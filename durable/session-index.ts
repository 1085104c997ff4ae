/**
 * The session index (issue 12): one small object per shard (`shard:<n>`, src/sessions/index.ts picks it from the session
 * id) listing the open MCP sessions. A session writes here when it opens and when it ends (DELETE, idle expiry, an
 * administrator), never per call; only the console and the admin API read it.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import type { OpenSession, SessionIndexObject } from '../src/contracts/session-index.ts';
import type { Env } from '../src/env.ts';

/** The index's table (docs/storage.md lists it). */
export const SESSION_INDEX_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS open_sessions (
    session_id TEXT PRIMARY KEY,
    opened_at INTEGER NOT NULL,
    entry TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS open_sessions_opened ON open_sessions (opened_at)',
];

const text = z.string().max(500);
const EntrySchema = z.strictObject({
  session_id: text,
  kind: z.enum(['user', 'agent']),
  user_id: text,
  email: text.nullable(),
  client_id: text.nullable(),
  client_name: text.nullable(),
  key_id: text.nullable(),
  agent_id: text.nullable(),
  grant_id: text.nullable(),
  revision: z.string().max(40),
  opened_at: z.number().int().min(0),
});

/** At most this many sessions are listed from one shard in one answer. */
const MAX_LIST = 1000;

/** One shard of the open-session listing. */
export class SessionIndex extends DurableObject<Env> implements SessionIndexObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of SESSION_INDEX_SCHEMA) ctx.storage.sql.exec(statement);
  }

  /** Lists a session that has just opened (a repeat replaces it). */
  opened(entry: OpenSession): void {
    const e = EntrySchema.parse(entry);
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO open_sessions (session_id, opened_at, entry) VALUES (?, ?, ?)', e.session_id, e.opened_at, JSON.stringify(e));
  }

  /** Forgets a session that has ended. */
  ended(sessionId: string): void {
    this.ctx.storage.sql.exec('DELETE FROM open_sessions WHERE session_id = ?', z.string().max(500).parse(sessionId));
  }

  /** The newest `limit` open sessions here (at most 1,000), and how many there are. */
  list(limit: number): { sessions: OpenSession[]; total: number } {
    const n = Math.max(0, Math.min(MAX_LIST, Math.floor(limit)));
    const sql = this.ctx.storage.sql;
    const sessions = sql
      .exec<{ entry: string }>('SELECT entry FROM open_sessions ORDER BY opened_at DESC LIMIT ?', n)
      .toArray()
      .map((r) => EntrySchema.parse(JSON.parse(r.entry)));
    return { sessions, total: sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM open_sessions').one().n };
  }
}
