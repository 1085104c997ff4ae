/**
 * The admin API for one client (issue 12): `GET /admin/clients/:id` (is it known, is it disabled) and
 * `POST /admin/clients/:id/disable` / `/enable`. The id is percent-encoded in the path (metadata-document ids are URLs).
 * Disabling sets the switch in the client's shard, revokes every grant issued to it (their sessions end at their next
 * request), and mirrors the switch in the index for the listing.
 */
import { requestMeta } from '../audit/emit.ts';
import type { ClientResolution, MachineClient, ClientRecord } from '../contracts/client-registry.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';
import { adminOf } from './admin-identity.ts';
import { clientShard, registryIndex } from './client-shards.ts';

const ROUTE = /^\/admin\/clients\/([^/]+)(?:\/(disable|enable))?$/;

/** True for the routes handled here. */
export function isClientRoute(path: string): boolean {
  return ROUTE.test(path);
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Whether the client exists (in its shard, or registered before sharding in the index) and whether it is disabled. */
async function clientState(env: Env, clientId: string): Promise<{ exists: boolean; disabled: boolean } | null> {
  const shard = clientShard(env, clientId);
  if (!shard) return null;
  const here = (await shard.resolve(clientId, Date.now())) as ClientResolution;
  if (here.known) return { exists: true, disabled: here.disabled };
  const index = registryIndex(env);
  const older = ((await index.get(clientId, 0)) as ClientRecord | null) ?? ((await index.machineClient(clientId)) as MachineClient | null);
  return { exists: older !== null, disabled: here.disabled };
}

/** Revokes the grants, eight at a time; how many were live. */
async function revokeGrants(env: Env, grants: readonly string[], request: Request): Promise<number> {
  let revoked = 0;
  for (let i = 0; i < grants.length; i += 8) {
    const answers = await Promise.all(grants.slice(i, i + 8).map((gid) => env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid)).revokeByAdmin(requestMeta(request))));
    revoked += answers.filter(Boolean).length;
  }
  return revoked;
}

/** Handles GET /admin/clients/:id and POST /admin/clients/:id/disable|enable (already authenticated). */
export async function handleClientRoute(request: Request, env: Env, path: string): Promise<Response> {
  const m = ROUTE.exec(path);
  const clientId = m?.[1] ? decode(m[1]) : null;
  const action = m?.[2];
  const state = clientId ? await clientState(env, clientId) : null;
  if (!clientId || !state?.exists) return adminError('not_found', 'no such client');
  if (!action) return request.method === 'GET' ? json({ client_id: clientId, disabled: state.disabled }) : adminError('method_not_allowed', 'use GET');
  if (request.method !== 'POST') return adminError('method_not_allowed', 'use POST');
  const disable = action === 'disable';
  const admin = adminOf(request);
  const now = Date.now();
  const shard = clientShard(env, clientId);
  if (!shard) return adminError('not_found', 'no such client');
  const { changed, grants } = await shard.setClientDisabled(clientId, disable, admin, now, requestMeta(request));
  // The shard decided; the index's copy (the listing only) follows.
  if (changed) await registryIndex(env).markListed(clientId, disable ? now : null, admin);
  const revoked = await revokeGrants(env, grants, request);
  return json({ client_id: clientId, disabled: disable, changed, grants_revoked: revoked });
}
