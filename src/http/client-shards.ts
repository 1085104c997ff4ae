/**
 * Where the client registry keeps what: one ClientRegistry object per client (`client:<id>`), per person (`user:<id>`)
 * and per registering address (`address:<ip>`), so no sign-in or refresh queues behind one global object; `default`
 * is the listing index (read only by the admin API) and still holds what was stored before sharding, which every
 * lookup that misses its shard reads through to (nothing is moved at run time). docs/scale.md has the why.
 */
import { sha256Base64url } from '../auth/encoding.ts';
import type { ClientJwk } from '../auth/client-jwks.ts';
import type { ClientMetadata } from '../auth/client-metadata.ts';
import type { RequestMeta } from '../audit/emit.ts';
import type { ClientRecord, ClientRegistryObject, ClientResolution, MachineClient, Registration } from '../contracts/client-registry.ts';
import type { Env } from '../env.ts';
import { randomToken } from '../lib/random.ts';

/** The listing index, and the store of everything registered before sharding. */
const INDEX = 'default';
/** Client ids this server issues: 24 random bytes in base64url. Metadata-document ids are URLs (checked elsewhere). */
const ISSUED_ID = /^[A-Za-z0-9_-]{32}$/;

type Stub = DurableObjectStub<ClientRegistryObject>;

function shard(env: Env, name: string): Stub {
  return env.CLIENTS.get(env.CLIENTS.idFromName(name));
}

/** The index object (admin listings; pre-sharding data). */
export function registryIndex(env: Env): Stub {
  return shard(env, INDEX);
}

/**
 * The object that holds `clientId`, or null for an id that no client can have (neither an id this server issues nor
 * a URL): such ids are refused without creating an object for them.
 */
export function clientShard(env: Env, clientId: string): Stub | null {
  if (!ISSUED_ID.test(clientId) && !/^https?:\/\//.test(clientId)) return null;
  return shard(env, `client:${clientId}`);
}

/** The object holding one person's remembered consents. */
export function userShard(env: Env, userId: string): Stub {
  return shard(env, `user:${userId}`);
}

/** What a lookup found: the client, a client an administrator disabled (refused like an unknown one), or nothing. */
export type ClientLookup = { kind: 'found'; client: ClientRecord } | { kind: 'disabled' } | { kind: 'unknown' };

/**
 * The client and its switch, from its shard (or, registered before sharding, the index; the switch is always in the
 * shard). Nothing is remembered per isolate: an administrator can disable a client at any moment (issue 12), and a copy
 * kept by one isolate could not be told, so every authorization and token request reads the shard.
 */
export async function resolveClient(env: Env, clientId: string, now: number): Promise<ClientLookup> {
  const own = clientShard(env, clientId);
  if (!own) return { kind: 'unknown' };
  const here = (await own.resolve(clientId, now)) as ClientResolution;
  if (here.disabled) return { kind: 'disabled' };
  const found = here.client ?? ((await registryIndex(env).get(clientId, now)) as ClientRecord | null);
  return found ? { kind: 'found', client: found } : { kind: 'unknown' };
}

/** The client, from its shard or (registered before sharding) the index; null when unknown or disabled. */
export async function lookupClient(env: Env, clientId: string, now: number): Promise<ClientRecord | null> {
  const found = await resolveClient(env, clientId, now);
  return found.kind === 'found' ? found.client : null;
}

/** Constant-time check of a registered client's secret (its shard, or the index for older clients). */
export async function verifyClientSecret(env: Env, clientId: string, secret: string): Promise<boolean> {
  const own = clientShard(env, clientId);
  if (!own) return false;
  const answer = await own.checkSecret(clientId, secret);
  if (answer !== 'unknown') return answer === 'match';
  return (await registryIndex(env).checkSecret(clientId, secret)) === 'match';
}

/** Caches a fetched Client ID Metadata Document in its shard and lists it in the index. */
export async function cacheDocument(env: Env, clientId: string, metadata: ClientMetadata, now: number, expiresAt: number): Promise<void> {
  const own = clientShard(env, clientId);
  if (!own) return;
  await own.putDocument(clientId, metadata, now, expiresAt);
  await registryIndex(env).indexClient(listing(clientId, metadata, 'cimd', now), now);
}

/**
 * Dynamic Client Registration: the address's shard counts it (429 past `limit` an hour), the new client's shard
 * stores it (and audits it), the index lists it.
 */
export async function registerClient(env: Env, metadata: ClientMetadata, address: string, limit: number, now: number, meta?: RequestMeta): Promise<Registration> {
  const taken = await shard(env, `address:${address}`).takeRegistration(address, limit, now);
  if (!taken.ok) return taken;
  const clientId = randomToken(24);
  const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : randomToken();
  const secretHash = secret ? await sha256Base64url(secret) : null;
  await shard(env, `client:${clientId}`).storeClient(clientId, metadata, secretHash, now, meta);
  await registryIndex(env).indexClient(listing(clientId, metadata, 'dcr', now), now);
  return { ok: true, clientId, clientSecret: secret, issuedAt: Math.floor(now / 1000) };
}

/** Remembered consent: the person's shard, or the index for consent given before sharding. */
export async function consentedScope(env: Env, userId: string, clientId: string): Promise<string | null> {
  return (await userShard(env, userId).consentedScope(userId, clientId)) ?? (await registryIndex(env).consentedScope(userId, clientId));
}

/** Remembers that `userId` approved `clientId` for `scope` (in the person's shard). */
export async function rememberConsent(env: Env, userId: string, clientId: string, scope: string, now: number): Promise<void> {
  await userShard(env, userId).rememberConsent(userId, clientId, scope, now);
}

/** The machine client and the object that holds it (its shard, or the index for older ones); 'disabled' when an administrator disabled it; null when unknown. */
export async function lookupMachineClient(env: Env, clientId: string): Promise<{ client: MachineClient; holder: Stub } | 'disabled' | null> {
  const own = clientShard(env, clientId);
  if (!own) return null;
  const here = (await own.resolve(clientId, Date.now())) as ClientResolution;
  if (here.disabled) return 'disabled';
  if (here.machine) return { client: here.machine, holder: own };
  const index = registryIndex(env);
  const older = (await index.machineClient(clientId)) as MachineClient | null;
  return older ? { client: older, holder: index } : null;
}

/** Creates a machine client under a fresh random id in its own shard and lists it in the index. */
export async function registerMachineClient(env: Env, input: { clientName: string; owner: string; scope: string; jwks: ClientJwk[] }, now: number): Promise<MachineClient> {
  for (;;) {
    const clientId = randomToken(24);
    // An id an older client already has (in the index) is never reused.
    if ((await registryIndex(env).get(clientId, now)) !== null || (await registryIndex(env).machineClient(clientId)) !== null) continue;
    const stored = (await shard(env, `client:${clientId}`).storeMachineClient(clientId, input, now)) as MachineClient | null;
    if (!stored) continue;
    await registryIndex(env).indexClient(
      { client_id: clientId, client_name: input.clientName, source: 'admin', created_at: new Date(now).toISOString(), token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], redirect_uris: [], owner: input.owner, scope: input.scope },
      now,
    );
    return stored;
  }
}

function listing(clientId: string, m: ClientMetadata, source: 'dcr' | 'cimd', now: number): Parameters<ClientRegistryObject['indexClient']>[0] {
  return { client_id: clientId, client_name: m.client_name ?? null, source, created_at: new Date(now).toISOString(), token_endpoint_auth_method: m.token_endpoint_auth_method, grant_types: m.grant_types, redirect_uris: m.redirect_uris };
}

/**
 * Lists a new grant in its client's shard, so that disabling the client revokes it. False when the client was disabled
 * meanwhile (between the client's check and the grant's issue): the caller revokes the grant and refuses.
 */
export async function attachClientGrant(env: Env, clientId: string, grantId: string, now: number): Promise<boolean> {
  const own = clientShard(env, clientId);
  return own ? own.attachGrant(clientId, grantId, now) : false;
}
