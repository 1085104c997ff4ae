/** The client registry's listing index (kept by the `default` shard): one row per client, written at registration, read only by the admin API. */
import type { ClientListing } from '../src/contracts/client-registry.ts';

/** The index table (docs/storage.md lists it under ClientRegistry). */
export const CLIENT_INDEX_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS client_index (
    client_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    listing TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
];

/** Records (or refreshes) a client's listing. */
export function indexClient(sql: SqlStorage, listing: ClientListing, createdAt: number): void {
  sql.exec(
    'INSERT INTO client_index (client_id, source, listing, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET listing = excluded.listing, source = excluded.source',
    listing.client_id,
    listing.source,
    JSON.stringify(listing),
    createdAt,
  );
}

/** Every indexed client, oldest first. */
export function indexedClients(sql: SqlStorage): ClientListing[] {
  return sql
    .exec<{ listing: string }>('SELECT listing FROM client_index ORDER BY created_at')
    .toArray()
    .map((r) => JSON.parse(r.listing) as ClientListing);
}

/** How many indexed clients are machine clients (`machine`) or OAuth clients (`oauth`: registered or metadata documents). */
export function indexedCount(sql: SqlStorage, kind: 'machine' | 'oauth'): number {
  const rows = kind === 'machine' ? sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM client_index WHERE source = 'admin'") : sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM client_index WHERE source <> 'admin'");
  return rows.one().n;
}
