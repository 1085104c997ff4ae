/** The registry (one instance, "default"): OAuth clients, remembered consent, registration rate limits, and the index of API keys. */
import { DurableObject } from 'cloudflare:workers';
import { z } from 'zod';
import { base64url, sha256Base64url, timingSafeEqual } from '../src/auth/encoding.ts';
import type { ClientMetadata } from '../src/auth/client-metadata.ts';
import type { Env } from '../src/env.ts';

const SCHEMA = [
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
];

const StoredMetadata = z.looseObject({
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])),
  client_name: z.string().optional(),
  scope: z.string().optional(),
});

/** A client as the authorization server sees it. */
export interface ClientRecord {
  clientId: string;
  metadata: ClientMetadata;
  /** dcr: registered with RFC 7591; cimd: a Client ID Metadata Document (cached). */
  source: 'dcr' | 'cimd';
  createdAt: number;
  hasSecret: boolean;
}

/** A registration's answer: the new client (with its secret, shown once), or how long to wait. */
export type Registration =
  | { ok: true; clientId: string; clientSecret?: string | undefined; issuedAt: number }
  | { ok: false; retryAfterSeconds: number };

const WINDOW_MS = 60 * 60 * 1000;

/** Owns every client record; reached by name "default". */
export class ClientRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
  }

  /** Registers a client unless `address` has registered `limit` clients in the last hour. */
  async register(metadata: ClientMetadata, address: string, limit: number, now: number): Promise<Registration> {
    const clientId = base64url(crypto.getRandomValues(new Uint8Array(24)));
    const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : base64url(crypto.getRandomValues(new Uint8Array(32)));
    const secretHash = secret ? await sha256Base64url(secret) : null;
    // No await from here on: the count check and the insert are atomic.
    const windowStart = now - (now % WINDOW_MS);
    const used = this.ctx.storage.sql.exec<{ count: number }>('SELECT count FROM registrations WHERE address = ? AND window_start = ?', address, windowStart).toArray()[0]?.count ?? 0;
    if (used >= limit) return { ok: false, retryAfterSeconds: Math.ceil((windowStart + WINDOW_MS - now) / 1000) };
    this.ctx.storage.sql.exec(
      'INSERT INTO registrations (address, window_start, count) VALUES (?, ?, 1) ON CONFLICT (address, window_start) DO UPDATE SET count = count + 1',
      address,
      windowStart,
    );
    this.ctx.storage.sql.exec('DELETE FROM registrations WHERE window_start < ?', windowStart);
    this.ctx.storage.sql.exec(
      "INSERT INTO clients (client_id, secret_hash, metadata, source, created_at) VALUES (?, ?, ?, 'dcr', ?)",
      clientId,
      secretHash,
      JSON.stringify(metadata),
      now,
    );
    return { ok: true, clientId, clientSecret: secret, issuedAt: Math.floor(now / 1000) };
  }

  /** The client, or null when unknown (or a cached metadata document has expired). */
  get(clientId: string, now: number): ClientRecord | null {
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
    const hash = await sha256Base64url(secret);
    const row = this.ctx.storage.sql.exec<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE client_id = ?', clientId).toArray()[0];
    return row?.secret_hash ? timingSafeEqual(hash, row.secret_hash) : false;
  }

  /** Caches a fetched Client ID Metadata Document until `expiresAt`. */
  putDocument(clientId: string, metadata: ClientMetadata, now: number, expiresAt: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO clients (client_id, secret_hash, metadata, source, created_at, expires_at) VALUES (?, NULL, ?, 'cimd', ?, ?) ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata, expires_at = excluded.expires_at",
      clientId,
      JSON.stringify(metadata),
      now,
      expiresAt,
    );
  }

  /** Remembers that `userId` approved `clientId` for `scope`. */
  rememberConsent(userId: string, clientId: string, scope: string, now: number): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at',
      userId,
      clientId,
      scope,
      now,
    );
  }

  /** The scope `userId` approved for `clientId`, or null. */
  consentedScope(userId: string, clientId: string): string | null {
    return this.ctx.storage.sql.exec<{ scope: string }>('SELECT scope FROM consents WHERE user_id = ? AND client_id = ?', userId, clientId).toArray()[0]?.scope ?? null;
  }

  /** Records (or updates) an API key's summary for listing; the key's own object stays the authority. */
  indexKey(keyId: string, summary: Record<string, unknown>, createdAt: number): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO api_keys (key_id, summary, created_at) VALUES (?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET summary = excluded.summary',
      keyId,
      JSON.stringify(summary),
      createdAt,
    );
  }

  /** Every API key's summary, oldest first. */
  listKeys(): Array<Record<string, unknown>> {
    return this.ctx.storage.sql.exec<{ summary: string }>('SELECT summary FROM api_keys ORDER BY created_at').toArray().map((r) => JSON.parse(r.summary) as Record<string, unknown>);
  }

  /** Every registered client (no secrets), oldest first. */
  listClients(): Array<{ client_id: string; client_name: string | null; source: string; created_at: number; token_endpoint_auth_method: string; grant_types: string[]; redirect_uris: string[] }> {
    return this.ctx.storage.sql
      .exec<{ client_id: string; metadata: string; source: string; created_at: number }>('SELECT client_id, metadata, source, created_at FROM clients ORDER BY created_at')
      .toArray()
      .map((r) => {
        const m = StoredMetadata.parse(JSON.parse(r.metadata));
        return { client_id: r.client_id, client_name: m.client_name ?? null, source: r.source, created_at: r.created_at, token_endpoint_auth_method: m.token_endpoint_auth_method, grant_types: m.grant_types, redirect_uris: m.redirect_uris };
      });
  }

  /** Test and diagnostics view: how many clients exist. */
  count(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM clients').one().n;
  }
}
