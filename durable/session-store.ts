/** The session's durable state: protocol metadata and the bounded SSE event log, in the Durable Object's SQLite. */
import { isSpecType, type EventStore, type JSONRPCMessage, type LoggingLevel } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { InitializeParamsSchema, type InitializeParams } from '../src/mcp/message.ts';
import { PrincipalSchema, type Principal } from '../src/mcp/principal.ts';

export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    protocol_version TEXT NOT NULL,
    initialize TEXT NOT NULL,
    log_level TEXT NOT NULL DEFAULT 'info',
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT NOT NULL,
    message TEXT NOT NULL,
    at INTEGER NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS events_stream ON events (stream_id, seq)',
  `CREATE TABLE IF NOT EXISTS grants (
    grant_id TEXT PRIMARY KEY,
    active INTEGER NOT NULL,
    checked_at INTEGER NOT NULL
  )`,
];

export { InitializeParamsSchema } from '../src/mcp/message.ts';

/** What the session knows about itself. */
export interface SessionMeta {
  sessionId: string;
  principal: Principal;
  protocolVersion: string;
  initialize: InitializeParams;
  logLevel: LoggingLevel;
  createdAt: number;
  lastSeenAt: number;
  endedAt: number | null;
}

const LevelSchema = z.enum(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

/** Creates the tables if they are missing. */
export function migrate(sql: SqlStorage): void {
  for (const statement of SCHEMA) sql.exec(statement);
}

/** True once migrate() has run in this object's storage. */
export function migrated(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'session'").toArray().length > 0;
}

/** Reads the session row, or null before initialize. */
export function readMeta(sql: SqlStorage): SessionMeta | null {
  if (!migrated(sql)) return null;
  const row = sql
    .exec<{ session_id: string; principal: string; protocol_version: string; initialize: string; log_level: string; created_at: number; last_seen_at: number; ended_at: number | null }>(
      'SELECT session_id, principal, protocol_version, initialize, log_level, created_at, last_seen_at, ended_at FROM session WHERE id = 1',
    )
    .toArray()[0];
  if (!row) return null;
  return {
    sessionId: row.session_id,
    principal: PrincipalSchema.parse(JSON.parse(row.principal)),
    protocolVersion: row.protocol_version,
    initialize: InitializeParamsSchema.parse(JSON.parse(row.initialize)),
    logLevel: LevelSchema.catch('info').parse(row.log_level),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    endedAt: row.ended_at,
  };
}

/** Writes the session row after a successful initialize. */
export function writeMeta(sql: SqlStorage, meta: SessionMeta): void {
  sql.exec(
    'INSERT INTO session (id, session_id, principal, protocol_version, initialize, log_level, created_at, last_seen_at, ended_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, NULL)',
    meta.sessionId,
    JSON.stringify(meta.principal),
    meta.protocolVersion,
    JSON.stringify(meta.initialize),
    meta.logLevel,
    meta.createdAt,
    meta.lastSeenAt,
  );
}

/** The grant's status as this session knows it: true active, false revoked, null never seen. */
export function grantStatus(sql: SqlStorage, grantId: string): boolean | null {
  const row = sql.exec<{ active: number }>('SELECT active FROM grants WHERE grant_id = ?', grantId).toArray()[0];
  return row ? row.active === 1 : null;
}

/** Records what the grant's Durable Object said (or that it revoked itself). */
export function setGrantStatus(sql: SqlStorage, grantId: string, active: boolean, now: number): void {
  sql.exec(
    'INSERT INTO grants (grant_id, active, checked_at) VALUES (?, ?, ?) ON CONFLICT (grant_id) DO UPDATE SET active = excluded.active, checked_at = excluded.checked_at',
    grantId,
    active ? 1 : 0,
    now,
  );
}

/** Parses a logging/setLevel level, or null when it is not one. */
export function parseLevel(value: unknown): LoggingLevel | null {
  const parsed = LevelSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * The SSE event log. Event ids are the log's sequence numbers, unique across the session; the
 * log keeps the newest `max` events. Resuming from an id that was trimmed away is refused by
 * the transport (400), since the events after it can no longer all be replayed.
 */
export class SqlEventStore implements EventStore {
  readonly #sql: SqlStorage;
  readonly #max: number;
  readonly #now: () => number;
  /** While true (replaying the stored handshake after eviction) nothing is recorded. */
  muted = false;

  constructor(sql: SqlStorage, max: number, now: () => number) {
    this.#sql = sql;
    this.#max = max;
    this.#now = now;
  }

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    if (this.muted) return Promise.resolve('0');
    const seq = this.#sql
      .exec<{ seq: number }>('INSERT INTO events (stream_id, message, at) VALUES (?, ?, ?) RETURNING seq', streamId, JSON.stringify(message), this.#now())
      .one().seq;
    if (seq % 64 === 0) this.trim();
    return Promise.resolve(String(seq));
  }

  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    if (!/^\d{1,15}$/.test(eventId)) return Promise.resolve(undefined);
    return Promise.resolve(this.#sql.exec<{ stream_id: string }>('SELECT stream_id FROM events WHERE seq = ?', Number(eventId)).toArray()[0]?.stream_id);
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const streamId = await this.getStreamIdForEventId(lastEventId);
    if (streamId === undefined) return '';
    const rows = this.#sql
      .exec<{ seq: number; message: string }>('SELECT seq, message FROM events WHERE stream_id = ? AND seq > ? ORDER BY seq', streamId, Number(lastEventId))
      .toArray();
    for (const row of rows) {
      const message: unknown = JSON.parse(row.message);
      // Priming events carry no message: they only give the client a cursor.
      if (isSpecType.JSONRPCMessage(message)) await send(String(row.seq), message);
    }
    return streamId;
  }

  /** Drops all but the newest `max` events. */
  trim(): void {
    if (!migrated(this.#sql)) return;
    this.#sql.exec('DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?', this.#max);
  }

  /** Number of events held (for tests and diagnostics). */
  count(): number {
    if (!migrated(this.#sql)) return 0;
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM events').one().n;
  }
}
