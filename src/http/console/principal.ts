/** Who is behind an admin request: the bootstrap secret (automation) or an administrator's console session (cookie, plus CSRF token and same origin for changes). */
import { adminLabel, isAdministrator, parseAdminUsers } from '../../auth/admin-users.ts';
import { loadConfig } from '../../config.ts';
import type { Env } from '../../env.ts';
import { adminError } from '../../errors.ts';
import { serverUrls } from '../urls.ts';
import { checkCsrf, hasSessionCookie, readSession, type ConsoleSession } from './session.ts';

/** The outcome for a console session: an administrator, a signed-in person who is not one, or nobody. */
export type ConsoleWho = { kind: 'admin'; admin: string; session: ConsoleSession } | { kind: 'not_admin'; label: string; session: ConsoleSession } | { kind: 'anonymous' };

/** Reads the console session of this request and checks it against ADMIN_USERS (on every request, so removing a name takes effect at once). */
export async function consoleWho(request: Request, env: Env, now = Date.now()): Promise<ConsoleWho> {
  const config = loadConfig(env);
  const session = await readSession(request, env, serverUrls(request, config).issuer, now);
  if (!session) return { kind: 'anonymous' };
  const label = adminLabel(session);
  return isAdministrator(parseAdminUsers(config.ADMIN_USERS), session) ? { kind: 'admin', admin: label, session } : { kind: 'not_admin', label, session };
}

/** True for a request that changes something (or opens a socket): these need the CSRF token and the same origin. */
export function isChange(request: Request): boolean {
  return !(request.method === 'GET' || request.method === 'HEAD') || request.headers.get('upgrade')?.toLowerCase() === 'websocket';
}

/** True when the request's Origin (if sent) is this server's own. Browsers send it on every POST and WebSocket handshake. */
export function sameOrigin(request: Request, env: Env): boolean {
  const origin = request.headers.get('origin');
  return origin === null || origin === serverUrls(request, loadConfig(env)).issuer;
}

/**
 * The administrator behind an admin API request, or the refusal. `bootstrapOk`: the request
 * carries the valid ADMIN_SECRET. Without an Authorization header a console session is used:
 * 401 when it is missing or expired, 403 for a person who is not an administrator, 403 for a
 * change without the session's CSRF token (header `X-CSRF-Token`) or from another origin.
 */
export async function adminPrincipal(request: Request, env: Env, bootstrapOk: boolean): Promise<{ ok: true; admin: string } | { ok: false; response: Response }> {
  const disabled = () => adminError('unauthorized', 'the admin API is disabled: set the ADMIN_SECRET secret (32+ characters)');
  if (request.headers.has('authorization') || !hasSessionCookie(request, serverUrls(request, loadConfig(env)).issuer)) {
    if (bootstrapOk) return { ok: true, admin: 'bootstrap' };
    if (!env.ADMIN_SECRET || env.ADMIN_SECRET.length < 32) return { ok: false, response: disabled() };
    return { ok: false, response: adminError('unauthorized', 'a valid admin credential is required') };
  }
  const who = await consoleWho(request, env);
  if (who.kind === 'anonymous') return { ok: false, response: adminError('unauthorized', 'the console session has expired: sign in again at /admin') };
  if (who.kind === 'not_admin') return { ok: false, response: adminError('forbidden', `${who.label} is not an administrator (ADMIN_USERS)`) };
  if (isChange(request)) {
    const socket = request.headers.get('upgrade')?.toLowerCase() === 'websocket';
    if (!sameOrigin(request, env) || (socket && !request.headers.has('origin'))) return { ok: false, response: adminError('forbidden', 'a change must come from this server’s own pages') };
    // A browser cannot add a header to a WebSocket handshake: there the Origin check above stands in for the token.
    const csrfOk = socket || (await checkCsrf(env, who.session.sid, request.headers.get('x-csrf-token')));
    if (!csrfOk) return { ok: false, response: adminError('forbidden', 'the CSRF token is missing or wrong') };
  }
  return { ok: true, admin: who.admin };
}
