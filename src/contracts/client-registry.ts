/** What the router may ask of the client registry's Durable Object (ClientRegistry implements it), and the client records. */
import type { RequestMeta } from '../audit/emit.ts';
import type { ClientJwk } from '../auth/client-jwks.ts';
import type { ClientMetadata } from '../auth/client-metadata.ts';

/** A client as the authorization server sees it. */
export interface ClientRecord {
  clientId: string;
  metadata: ClientMetadata;
  /** dcr: registered with RFC 7591; cimd: a Client ID Metadata Document (cached). */
  source: 'dcr' | 'cimd';
  createdAt: number;
  hasSecret: boolean;
}

/** A client registered by an administrator for the client_credentials grant with private_key_jwt (never through open registration). */
export interface MachineClient {
  clientId: string;
  clientName: string;
  /** The user the client acts for (kept in its grants for the audit trail). */
  owner: string;
  /** The registered scope: every token's scope is a subset of it. */
  scope: string;
  /** The public keys its assertions are signed with. */
  jwks: ClientJwk[];
  createdAt: number;
}

/** A registration's answer: the new client (with its secret, shown once), or how long to wait. */
export type Registration =
  | { ok: true; clientId: string; clientSecret?: string | undefined; issuedAt: number }
  | { ok: false; retryAfterSeconds: number };

/** A client as the admin API lists it (no secrets). */
export interface ClientListing {
  client_id: string;
  client_name: string | null;
  source: string;
  created_at: string;
  token_endpoint_auth_method: string;
  grant_types: string[];
  redirect_uris: string[];
  owner?: string;
  scope?: string;
  /** When an administrator disabled the client (issue 12); null or absent while it is enabled. */
  disabled_at?: string | null;
}

/** A client shard's answer about one id: the client (OAuth or machine, or neither: look in the index) and its switch. */
export interface ClientResolution {
  disabled: boolean;
  /** Whether this object holds the client at all (a metadata document's expired cache included). */
  known: boolean;
  client: ClientRecord | null;
  machine: MachineClient | null;
}

/**
 * One shard of the client registry (src/http/client-shards.ts names them): `client:<id>`, `user:<id>`, `address:<ip>`,
 * and `default`, the listing index (which also holds what was stored before sharding).
 */
export interface ClientRegistryObject extends Rpc.DurableObjectBranded {
  /** Address shard: counts one registration unless `address` has registered `limit` clients in the last hour. */
  takeRegistration(address: string, limit: number, now: number): { ok: true } | { ok: false; retryAfterSeconds: number };
  /** Client shard: stores a dynamically registered client (secret as a hash) and audits it. */
  storeClient(clientId: string, metadata: ClientMetadata, secretHash: string | null, now: number, meta?: RequestMeta): Promise<void>;
  /** Index: records a client for the admin listing. */
  indexClient(listing: ClientListing, createdAt: number): void;
  /** Constant-time check of a client secret; 'unknown' when this shard does not hold the client. */
  checkSecret(clientId: string, secret: string): Promise<'match' | 'mismatch' | 'unknown'>;
  /** The client, or null when unknown (or a cached metadata document has expired). */
  get(clientId: string, now: number): ClientRecord | null;
  /** Constant-time check of a client secret. */
  verifySecret(clientId: string, secret: string): Promise<boolean>;
  /** Caches a fetched Client ID Metadata Document until `expiresAt`. */
  putDocument(clientId: string, metadata: ClientMetadata, now: number, expiresAt: number): void;
  /** Remembers that `userId` approved `clientId` for `scope`. */
  rememberConsent(userId: string, clientId: string, scope: string, now: number): void;
  /** The scope `userId` approved for `clientId`, or null. */
  consentedScope(userId: string, clientId: string): string | null;
  /** Records (or updates) an API key's summary for listing. */
  indexKey(keyId: string, summary: Record<string, unknown>, createdAt: number): void;
  /** Every API key's id, oldest first. */
  listKeys(): string[];
  /** Every client (no secrets), oldest first; machine clients follow. */
  listClients(): ClientListing[];
  /** Client shard: stores a machine client under `clientId`; null when the id is taken. */
  storeMachineClient(clientId: string, input: { clientName: string; owner: string; scope: string; jwks: ClientJwk[] }, now: number): Promise<MachineClient | null>;
  /** The machine client, or null. */
  machineClient(clientId: string): MachineClient | null;
  /** Records a client assertion's `jti` as used; false when it already was (a replay). */
  useAssertionId(clientId: string, jti: string, rememberUntil: number, now: number): boolean;
  /** Test and diagnostics view: the assertion ids remembered now. */
  assertionIds(): Array<{ client_id: string; jti: string; expires_at: number }>;
  /** Test and diagnostics view: how many machine clients exist. */
  machineClientCount(): number;
  /** Client shard: the client and its switch in one call. */
  resolve(clientId: string, now: number): ClientResolution;
  /** Client shard: an administrator disables or enables the client; disabling hands back (and forgets) its grants, for the caller to revoke. */
  setClientDisabled(clientId: string, disabled: boolean, admin: string, now: number, meta?: RequestMeta): Promise<{ changed: boolean; grants: string[] }>;
  /** Index: mirrors a client's switch for the listing. */
  markListed(clientId: string, disabledAt: number | null, admin: string): void;
  /** Client shard: lists a grant issued to the client; false while it is disabled. */
  attachGrant(clientId: string, grantId: string, now: number): boolean;
  /** Test and diagnostics view: how many clients exist. */
  count(): number;
}
