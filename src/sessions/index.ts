/**
 * The open-session index (issue 12), as the sessions and the admin API reach it: SESSION_INDEX_SHARDS objects
 * (`shard:<n>`), the shard picked from the session id, so no single object sits on the path of every session opening.
 * Sessions write at initialize and at their end only; the listing reads every shard and merges (admin only).
 */
import type { SessionCall } from '../mcp/message.ts';
import type { OpenSession, SessionIndexObject } from '../contracts/session-index.ts';
import type { Env } from '../env.ts';

/** How many shards the index has (changing it orphans listed sessions: pick once). */
export const SESSION_INDEX_SHARDS = 8;

/** The shard of a session id (FNV-1a of the id). */
export function shardOf(sessionId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193) >>> 0;
  return h % SESSION_INDEX_SHARDS;
}

function shard(env: Env, n: number): DurableObjectStub<SessionIndexObject> | null {
  const ns = env.SESSION_INDEX;
  return ns ? ns.get(ns.idFromName(`shard:${n}`)) : null;
}

/** The index entry of a session that has just opened. */
export function openEntry(call: SessionCall, revision: string, clientName: string | null, now: number): OpenSession {
  const p = call.principal;
  const cut = (v: string | null | undefined) => (v == null ? null : v.slice(0, 200));
  return p.kind === 'user'
    ? { session_id: call.sessionId, kind: 'user', user_id: p.id, email: cut(p.email), client_id: cut(p.clientId), client_name: cut(clientName), key_id: null, agent_id: null, grant_id: p.grantId, revision, opened_at: now }
    : { session_id: call.sessionId, kind: 'agent', user_id: p.owner, email: null, client_id: null, client_name: cut(clientName), key_id: p.keyId, agent_id: p.agentId, grant_id: null, revision, opened_at: now };
}

/**
 * Lists a session that has just opened. A failure is logged, not thrown: the session is the authority on whether it
 * is open, and the index only a view of it.
 */
export async function noteSessionOpened(env: Env, entry: OpenSession): Promise<void> {
  await shard(env, shardOf(entry.session_id))
    ?.opened(entry)
    .catch((error: unknown) => console.error(JSON.stringify({ event: 'session_index_failed', op: 'opened', error: String(error) })));
}

/** Forgets a session that has ended (failures logged, as above). */
export async function noteSessionEnded(env: Env, sessionId: string): Promise<void> {
  await shard(env, shardOf(sessionId))
    ?.ended(sessionId)
    .catch((error: unknown) => console.error(JSON.stringify({ event: 'session_index_failed', op: 'ended', error: String(error) })));
}

/** One page of the open sessions, newest first, from every shard; `total` is the number open. */
export async function listOpenSessions(env: Env, page: number, size: number): Promise<{ sessions: OpenSession[]; total: number }> {
  const want = page * size;
  const answers = await Promise.all(Array.from({ length: SESSION_INDEX_SHARDS }, (_, n) => shard(env, n)?.list(want) ?? Promise.resolve({ sessions: [], total: 0 })));
  const all = answers.flatMap((a) => a.sessions).sort((a, b) => b.opened_at - a.opened_at || (a.session_id < b.session_id ? -1 : 1));
  return { sessions: all.slice((page - 1) * size, want), total: answers.reduce((n, a) => n + a.total, 0) };
}

/** Lists a session whose initialize succeeded (the self-declared client name from `clientInfo`). */
export function noteOpened(env: Env, call: SessionCall, init: { clientInfo?: { name?: unknown } | undefined }, revision: string, now: number): Promise<void> {
  const name = init.clientInfo?.name;
  return noteSessionOpened(env, openEntry(call, revision, typeof name === 'string' ? name : null, now));
}
