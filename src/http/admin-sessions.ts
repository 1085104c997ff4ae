/**
 * The admin API for open MCP sessions (issue 12): `GET /admin/sessions?page=N` lists them from the session index
 * (newest first, 50 a page), `POST /admin/sessions/:id/end` ends one session alone: the session object marks itself
 * ended (its next request gets 404 session_not_found), its grant or key and the person's other sessions keep working.
 */
import { requestMeta } from '../audit/emit.ts';
import { idKey, verifyId } from '../auth/ids.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';
import { listOpenSessions, noteSessionEnded } from '../sessions/index.ts';
import { adminOf } from './admin-identity.ts';

/** Sessions on one page of the listing. */
export const SESSIONS_PAGE_SIZE = 50;
const END_ROUTE = /^\/admin\/sessions\/([A-Za-z0-9_-]{43})\/end$/;

/** True for the routes handled here. */
export function isSessionRoute(path: string): boolean {
  return path === '/admin/sessions' || END_ROUTE.test(path);
}

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** Handles the session routes (already authenticated). */
export async function handleSessionRoute(request: Request, env: Env, path: string): Promise<Response> {
  if (path === '/admin/sessions') {
    if (request.method !== 'GET') return adminError('method_not_allowed', 'use GET');
    const raw = new URL(request.url).searchParams.get('page') ?? '1';
    const page = /^[1-9][0-9]{0,3}$/.test(raw) ? Number(raw) : 0;
    if (page === 0) return adminError('invalid_request', 'page: a whole number from 1 to 9999');
    const { sessions, total } = await listOpenSessions(env, page, SESSIONS_PAGE_SIZE);
    return json({ sessions: sessions.map((s) => ({ ...s, opened_at: new Date(s.opened_at).toISOString() })), total, page, page_size: SESSIONS_PAGE_SIZE });
  }
  if (request.method !== 'POST') return adminError('method_not_allowed', 'use POST');
  const sessionId = END_ROUTE.exec(path)?.[1] ?? '';
  // A forged or made-up id is refused without reaching (or creating) a session object.
  if (!(await verifyId(await idKey(env.ID_SECRET), 'session', sessionId))) return adminError('not_found', 'no open session with that id');
  const ended = await env.MCP_SESSION.get(env.MCP_SESSION.idFromName(sessionId)).endByAdmin(adminOf(request), requestMeta(request));
  if (!ended) {
    // Not open (ended already, or never opened): make sure the listing agrees.
    await noteSessionEnded(env, sessionId);
    return adminError('not_found', 'no open session with that id');
  }
  return json({ session_id: sessionId, ended: true });
}
