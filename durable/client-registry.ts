/**
 * The client registry, sharded by what each request names (src/http/client-shards.ts): `client:<id>` holds one OAuth or
 * machine client and its used assertion ids, `user:<id>` one person's consents, `address:<ip>` one address's registration
 * counter; `default` is the listing index (clients, API keys) and still holds what was stored before sharding.
 */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { sha256Base64url, timingSafeEqual } from '../src/auth/encoding.ts';
import type { ClientMetadata } from '../src/auth/client-metadata.ts';
import { ClientJwkSchema, type ClientJwk } from '../src/auth/client-jwks.ts';
import type { Env } from '../src/env.ts';
import { loadConfig } from '../src/config.ts';
import { newEvent, type EventInput, type RequestMeta } from '../src/audit/emit.ts';
import type { ClientListing, ClientRecord, ClientRegistryObject, ClientResolution, MachineClient } from '../src/contracts/client-registry.ts';
import { AuditOutbox } from './audit-outbox.ts';
import { CLIENT_INDEX_SCHEMA, indexClient, indexedClients, indexedCount } from './client-index.ts';
import { attachGrant, CLIENT_STATUS_SCHEMA, disabledClients, disabledState, setDisabled, takeGrants } from './client-status.ts';

/** The registry's SQLite tables (docs/storage.md is checked against this). */
export const CLIENT_REGISTRY_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT,
    metadata TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  )`,
  `CREATE TABLE IF NOT EXISTS registrations (
    address TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (address, window_start)
  )`,
  `CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS consents (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
  )`,
  `CREATE TABLE IF NOT EXISTS machine_clients (
    client_id TEXT PRIMARY KEY,
    client_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    scope TEXT NOT NULL,
    jwks TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS assertion_ids (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
  )`,
  'CREATE INDEX IF NOT EXISTS assertion_ids_expiry ON assertion_ids (expires_at)',
  ...CLIENT_INDEX_SCHEMA,
  ...CLIENT_STATUS_SCHEMA,
];

const StoredMetadata = z.looseObject({
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])),
  client_name: z.string().optional(),
  scope: z.string().optional(),
});

const WINDOW_MS = 60 * 60 * 1000;

/** One shard of the client registry (see the module comment). */
export class ClientRegistry extends DurableObject<Env> implements ClientRegistryObject {
  readonly #outbox: AuditOutbox;
  /**
   * Whether this shard has its tables. They are created by the first write, not by a read, so a lookup of an id
   * nobody registered leaves no storage behind; an object from before a table was added gets it at once.
   */
  #ready: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tables = new Set(ctx.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name));
    this.#ready = tables.has('clients');
    if (this.#ready && (!tables.has('client_index') || !tables.has('client_status'))) for (const statement of CLIENT_REGISTRY_SCHEMA) ctx.storage.sql.exec(statement);
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX);
  }

  /** The storage, with the tables created first (every write goes through here). */
  get #sql(): SqlStorage {
    if (!this.#ready) {
      for (const statement of CLIENT_REGISTRY_SCHEMA) this.ctx.storage.sql.exec(statement);
      this.#ready = true;
    }
    return this.ctx.storage.sql;
  }

  /** Delivers audit events. */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
  }

  /** Records an event (client registrations, machine clients) if auditing is on. */
  async #audit(event: EventInput): Promise<void> {
    if (loadConfig(this.env).AUDIT_ENABLED) await this.#outbox.record(newEvent(event));
  }

  /** Address shard: counts one registration unless `address` has registered `limit` clients in the last hour (no await: atomic). */
  takeRegistration(address: string, limit: number, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const windowStart = now - (now % WINDOW_MS);
    const used = this.#sql.exec<{ count: number }>('SELECT count FROM registrations WHERE address = ? AND window_start = ?', address, windowStart).toArray()[0]?.count ?? 0;
    if (used >= limit) return { ok: false, retryAfterSeconds: Math.ceil((windowStart + WINDOW_MS - now) / 1000) };
    this.ctx.storage.sql.exec(
      'INSERT INTO registrations (address, window_start, count) VALUES (?, ?, 1) ON CONFLICT (address, window_start) DO UPDATE SET count = count + 1',
      address,
      windowStart,
    );
    this.ctx.storage.sql.exec('DELETE FROM registrations WHERE window_start < ?', windowStart);
    return { ok: true };
  }

  /** Client shard: stores a dynamically registered client (its secret only as a hash) and audits the registration. */
  async storeClient(clientId: string, metadata: ClientMetadata, secretHash: string | null, now: number, meta?: RequestMeta): Promise<void> {
    this.#sql.exec(
      "INSERT INTO clients (client_id, secret_hash, metadata, source, created_at) VALUES (?, ?, ?, 'dcr', ?)",
      clientId,
      secretHash,
      JSON.stringify(metadata),
      now,
    );
    await this.#audit({ type: 'client.registered', outcome: 'success', actor: { client_id: clientId }, reason: `dynamic registration: ${(metadata.client_name ?? 'unnamed').slice(0, 100)}; redirect ${metadata.redirect_uris.map((u) => u.slice(0, 100)).join(' ')}`, meta });
  }

  /** Index: records a client for the admin listing (no secret). */
  indexClient(listing: ClientListing, createdAt: number): void {
    indexClient(this.#sql, listing, createdAt);
  }

  /** The client, or null when unknown (or a cached metadata document has expired). */
  get(clientId: string, now: number): ClientRecord | null {
    if (!this.#ready) return null;
    const row = this.ctx.storage.sql
      .exec<{ client_id: string; secret_hash: string | null; metadata: string; source: string; created_at: number; expires_at: number | null }>(
        'SELECT client_id, secret_hash, metadata, source, created_at, expires_at FROM clients WHERE client_id = ?',
        clientId,
      )
      .toArray()[0];
    if (!row || (row.expires_at !== null && row.expires_at <= now)) return null;
    return {
      clientId: row.client_id,
      metadata: StoredMetadata.parse(JSON.parse(row.metadata)) as ClientMetadata,
      source: row.source === 'cimd' ? 'cimd' : 'dcr',
      createdAt: row.created_at,
      hasSecret: row.secret_hash !== null,
    };
  }

  /** Constant-time check of a client secret. */
  async verifySecret(clientId: string, secret: string): Promise<boolean> {
    if (!this.#ready) return false;
    const hash = await sha256Base64url(secret);
    const row = this.ctx.storage.sql.exec<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = ?', clientId).toArray()[0];
    return row?.secret_hash ? timingSafeEqual(hash, row.secret_hash) : false;
  }

  /** Constant-time check of a client secret, telling an unknown client apart (a shard miss falls back to the pre-sharding store). */
  async checkSecret(clientId: string, secret: string): Promise<'match' | 'mismatch' | 'unknown'> {
    if (!this.#ready) return 'unknown';
    const hash = await sha256Base64url(secret);
    const row = this.ctx.storage.sql.exec<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = ?', clientId).toArray()[0];
    if (!row) return 'unknown';
    return row.secret_hash && timingSafeEqual(hash, row.secret_hash) ? 'match' : 'mismatch';
  }

  /** Caches a fetched Client ID Metadata Document until `expiresAt`. */
  putDocument(clientId: string, metadata: ClientMetadata, now: number, expiresAt: number): void {
    this.#sql.exec(
      "INSERT INTO clients (client_id, secret_hash, metadata, source, created_at, expires_at) VALUES (?, NULL, ?, 'cimd', ?, ?) ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata, expires_at = excluded.expires_at",
      clientId,
      JSON.stringify(metadata),
      now,
      expiresAt,
    );
  }

  /** Remembers that `userId` approved `clientId` for `scope`. */
  rememberConsent(userId: string, clientId: string, scope: string, now: number): void {
    this.#sql.exec(
      'INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at',
      userId,
      clientId,
      scope,
      now,
    );
  }

  /** The scope `userId` approved for `clientId`, or null. */
  consentedScope(userId: string, clientId: string): string | null {
    if (!this.#ready) return null;
    return this.ctx.storage.sql.exec<{ scope: string }>('SELECT scope FROM consents WHERE user_id = ? AND client_id = ?', userId, clientId).toArray()[0]?.scope ?? null;
  }

  /** Records (or updates) an API key's summary for listing; the key's own object stays the authority. */
  indexKey(keyId: string, summary: Record<string, unknown>, createdAt: number): void {
    this.#sql.exec(
      'INSERT INTO api_keys (key_id, summary, created_at) VALUES (?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET summary = excluded.summary',
      keyId,
      JSON.stringify(summary),
      createdAt,
    );
  }

  /** Every API key's id, oldest first. */
  listKeys(): string[] {
    if (!this.#ready) return [];
    return this.ctx.storage.sql.exec<{ key_id: string }>('SELECT key_id FROM api_keys ORDER BY created_at').toArray().map((r) => r.key_id);
  }

  /** Every registered client (no secrets), oldest first; machine clients follow, with source 'admin', their owner and scope. */
  listClients(): ClientListing[] {
    if (!this.#ready) return [];
    const registered = this.ctx.storage.sql
      .exec<{ client_id: string; metadata: string; source: string; created_at: number }>('SELECT client_id, metadata, source, created_at FROM clients ORDER BY created_at')
      .toArray()
      .map((r) => {
        const m = StoredMetadata.parse(JSON.parse(r.metadata));
        return { client_id: r.client_id, client_name: m.client_name ?? null, source: r.source, created_at: new Date(r.created_at).toISOString(), token_endpoint_auth_method: m.token_endpoint_auth_method, grant_types: m.grant_types, redirect_uris: m.redirect_uris };
      });
    const machines = this.#machineRows().map((m) => ({
      client_id: m.clientId,
      client_name: m.clientName,
      source: 'admin',
      created_at: new Date(m.createdAt).toISOString(),
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      owner: m.owner,
      scope: m.scope,
    }));
    // Clients registered since sharding are listed from the index; older ones from this object's own tables.
    const indexed = indexedClients(this.ctx.storage.sql);
    const disabled = disabledClients(this.ctx.storage.sql);
    const all: ClientListing[] = [...registered, ...indexed.filter((c) => c.source !== 'admin'), ...machines, ...indexed.filter((c) => c.source === 'admin')];
    return all.map((c) => ({ ...c, disabled_at: disabled.has(c.client_id) ? new Date(disabled.get(c.client_id) ?? 0).toISOString() : null }));
  }

  /** Client shard: stores a machine client under `clientId` (chosen at random by the router); null when this shard already holds that id. */
  async storeMachineClient(clientId: string, input: { clientName: string; owner: string; scope: string; jwks: ClientJwk[] }, now: number): Promise<MachineClient | null> {
    if (this.#sql.exec('SELECT 1 FROM clients WHERE client_id = ? UNION ALL SELECT 1 FROM machine_clients WHERE client_id = ?', clientId, clientId).toArray().length > 0) return null;
    const jwks = ClientJwkSchema.array().parse(input.jwks);
    this.ctx.storage.sql.exec(
      'INSERT INTO machine_clients (client_id, client_name, owner, scope, jwks, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      clientId,
      input.clientName,
      input.owner,
      input.scope,
      JSON.stringify(jwks),
      now,
    );
    await this.#audit({ type: 'admin.action', outcome: 'success', actor: { client_id: clientId, owner: input.owner, user_id: input.owner }, reason: `machine client created: ${input.clientName.slice(0, 100)}; scope ${input.scope}` });
    return { clientId, clientName: input.clientName, owner: input.owner, scope: input.scope, jwks, createdAt: now };
  }

  /** The machine client, or null (OAuth clients are not machine clients). */
  machineClient(clientId: string): MachineClient | null {
    return this.#machineRows(clientId)[0] ?? null;
  }

  /**
   * Records a client assertion's `jti` as used; false when it already was (a replay). The check
   * and the insert run with no await between them, so of two concurrent uses exactly one wins.
   * An id is remembered until `rememberUntil` (the assertion's exp plus the clock skew): after
   * that the assertion itself is refused as expired, so forgetting it is safe.
   */
  useAssertionId(clientId: string, jti: string, rememberUntil: number, now: number): boolean {
    this.#sql.exec('DELETE FROM assertion_ids WHERE expires_at <= ?', now);
    if (this.ctx.storage.sql.exec('SELECT 1 FROM assertion_ids WHERE client_id = ? AND jti = ?', clientId, jti).toArray().length > 0) return false;
    this.ctx.storage.sql.exec('INSERT INTO assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)', clientId, jti, rememberUntil);
    return true;
  }

  /** Test and diagnostics view: the assertion ids remembered now. */
  assertionIds(): Array<{ client_id: string; jti: string; expires_at: number }> {
    if (!this.#ready) return [];
    return this.ctx.storage.sql.exec<{ client_id: string; jti: string; expires_at: number }>('SELECT client_id, jti, expires_at FROM assertion_ids ORDER BY expires_at').toArray();
  }

  /** Test and diagnostics view: how many machine clients exist (on the index: its own rows and the indexed ones). */
  machineClientCount(): number {
    if (!this.#ready) return 0;
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM machine_clients').one().n + indexedCount(this.ctx.storage.sql, 'machine');
  }

  #machineRows(clientId?: string): MachineClient[] {
    if (!this.#ready) return [];
    type Row = { client_id: string; client_name: string; owner: string; scope: string; jwks: string; created_at: number };
    const columns = 'SELECT client_id, client_name, owner, scope, jwks, created_at FROM machine_clients';
    const rows = clientId === undefined ? this.ctx.storage.sql.exec<Row>(`${columns} ORDER BY created_at`) : this.ctx.storage.sql.exec<Row>(`${columns} WHERE client_id = ?`, clientId);
    return rows.toArray().map((r) => ({ clientId: r.client_id, clientName: r.client_name, owner: r.owner, scope: r.scope, jwks: ClientJwkSchema.array().parse(JSON.parse(r.jwks)), createdAt: r.created_at }));
  }

  /** Client shard: the client (OAuth or machine) and its switch, in one call; nothing is created for an unknown id. */
  resolve(clientId: string, now: number): ClientResolution {
    if (!this.#ready) return { disabled: false, known: false, client: null, machine: null };
    const sql = this.ctx.storage.sql;
    const known = sql.exec('SELECT 1 FROM clients WHERE client_id = ? UNION ALL SELECT 1 FROM machine_clients WHERE client_id = ?', clientId, clientId).toArray().length > 0;
    return { disabled: disabledState(sql, clientId) !== null, known, client: this.get(clientId, now), machine: this.machineClient(clientId) };
  }

  /**
   * Client shard: an administrator disables (or enables) the client. Disabling hands back the grants issued to it, for
   * the caller to revoke, and forgets them; enabling revokes nothing and restores nothing. Audited naming the administrator.
   */
  async setClientDisabled(clientId: string, disabled: boolean, admin: string, now: number, meta?: RequestMeta): Promise<{ changed: boolean; grants: string[] }> {
    const changed = setDisabled(this.#sql, clientId, disabled ? { at: now, by: admin } : null);
    const grants = disabled ? takeGrants(this.ctx.storage.sql, clientId) : [];
    if (changed) {
      await this.#audit({
        type: disabled ? 'client.disabled' : 'client.enabled',
        outcome: 'success',
        actor: { admin, client_id: clientId },
        reason: disabled ? `client disabled by ${admin.slice(0, 100)}; ${grants.length} grant(s) to revoke` : `client enabled by ${admin.slice(0, 100)}`,
        meta,
      });
    }
    return { changed, grants };
  }

  /** Index: mirrors a client's switch for the listing (the client's shard is the authority). */
  markListed(clientId: string, disabledAt: number | null, admin: string): void {
    setDisabled(this.#sql, clientId, null);
    if (disabledAt !== null) setDisabled(this.ctx.storage.sql, clientId, { at: disabledAt, by: admin });
  }

  /** Client shard: lists a grant issued to the client so that disabling it reaches the grant; false while the client is disabled. */
  attachGrant(clientId: string, grantId: string, now: number): boolean {
    return attachGrant(this.#sql, clientId, grantId, now);
  }

  /** Test and diagnostics view: how many clients exist (on the index: its own rows and the indexed OAuth clients). */
  count(): number {
    if (!this.#ready) return 0;
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM clients').one().n + indexedCount(this.ctx.storage.sql, 'oauth');
  }
}
