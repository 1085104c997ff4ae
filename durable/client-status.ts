/**
 * A client's switch and the grants it has been given, kept in the client's own registry shard (`client:<id>`): an
 * administrator disables a client there, and every grant issued to it is listed there so that disabling it can revoke
 * them. The index (`default`) keeps a copy of the switch for the admin listing only.
 */

/** The tables (docs/storage.md lists them under ClientRegistry). */
export const CLIENT_STATUS_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS client_status (
    client_id TEXT PRIMARY KEY,
    disabled_at INTEGER NOT NULL,
    disabled_by TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS client_grants (
    grant_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    attached_at INTEGER NOT NULL
  )`,
];

/** A disabled client: when and by whom. */
export interface Disabled {
  at: number;
  by: string;
}

/** The client's switch: null while it is enabled. */
export function disabledState(sql: SqlStorage, clientId: string): Disabled | null {
  const row = sql.exec<{ disabled_at: number; disabled_by: string }>('SELECT disabled_at, disabled_by FROM client_status WHERE client_id = ?', clientId).toArray()[0];
  return row ? { at: row.disabled_at, by: row.disabled_by } : null;
}

/** Sets or clears the switch; false when it already was in that position. */
export function setDisabled(sql: SqlStorage, clientId: string, disabled: Disabled | null): boolean {
  if (disabled === null) return sql.exec('DELETE FROM client_status WHERE client_id = ?', clientId).rowsWritten > 0;
  return sql.exec('INSERT OR IGNORE INTO client_status (client_id, disabled_at, disabled_by) VALUES (?, ?, ?)', clientId, disabled.at, disabled.by).rowsWritten > 0;
}

/** Every disabled client id with its time (the index's copy, for the listing). */
export function disabledClients(sql: SqlStorage): Map<string, number> {
  return new Map(sql.exec<{ client_id: string; disabled_at: number }>('SELECT client_id, disabled_at FROM client_status').toArray().map((r) => [r.client_id, r.disabled_at]));
}

/** Lists a grant issued to the client; false (nothing written) while the client is disabled. Check and insert have no await between them. */
export function attachGrant(sql: SqlStorage, clientId: string, grantId: string, now: number): boolean {
  if (disabledState(sql, clientId) !== null) return false;
  sql.exec('INSERT OR IGNORE INTO client_grants (grant_id, client_id, attached_at) VALUES (?, ?, ?)', grantId, clientId, now);
  return true;
}

/** The grants listed for the client, and forgets them (disabling revokes them all; a revoked grant never comes back). */
export function takeGrants(sql: SqlStorage, clientId: string): string[] {
  const ids = sql.exec<{ grant_id: string }>('SELECT grant_id FROM client_grants WHERE client_id = ? ORDER BY attached_at', clientId).toArray().map((r) => r.grant_id);
  sql.exec('DELETE FROM client_grants WHERE client_id = ?', clientId);
  return ids;
}
