/** The console at /admin: static files, sign-in and sign-out, the pages (administrators only, every view recorded) and their form actions (CSRF token and same origin). */
import type { Env } from '../../env.ts';
import { recordAdminRequest } from '../admin.ts';
import { staticAsset } from './assets.ts';
import { escapeHtml, PAGES, pageResponse, type PageName, type Viewer } from './layout.ts';
import { alertsAction, alertsPage } from './page-alerts.ts';
import { auditPage } from './page-audit.ts';
import { clientsAction, clientsPage } from './page-clients.ts';
import { keysAction, keysPage } from './page-keys.ts';
import { overviewPage } from './page-overview.ts';
import { sessionsAction, sessionsPage } from './page-sessions.ts';
import { toolsPage } from './page-tools.ts';
import { consoleWho, sameOrigin } from './principal.ts';
import { checkCsrf, csrfToken } from './session.ts';
import { handleConsoleSignIn, handleConsoleSignOut } from './sign-in.ts';

const ACTIONS = new Set(['keys/create', 'keys/rotate', 'keys/revoke', 'clients/create', 'clients/disable', 'clients/enable', 'grants/revoke', 'alerts/ack', 'sessions/end']);

function signInPage(): Response {
  return pageResponse(401, 'Sign in', '<p>The console is for the administrators of this server. Sign in with your organisation’s account.</p><p><a href="/admin/console/signin" class="button">Sign in</a></p>');
}

/**
 * True when a request for `/admin` itself is a browser asking for the console (a GET that
 * accepts HTML and carries no Authorization header); any other request there keeps the admin
 * API's JSON answers, as before the console existed.
 */
export function wantsConsole(request: Request): boolean {
  return request.method === 'GET' && !request.headers.has('authorization') && (request.headers.get('accept') ?? '').includes('text/html');
}

/** Handles GET /admin and /admin/console/*. */
export async function handleConsole(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.replace(/\/+$/, '');
  const rest = path === '/admin' ? 'overview' : path.startsWith('/admin/console/') ? path.slice('/admin/console/'.length) : '';
  if (rest.startsWith('static/') && request.method === 'GET') return staticAsset(rest.slice('static/'.length)) ?? notFound();
  if (rest === 'signin' && request.method === 'GET') return handleConsoleSignIn(request, env);
  if (rest === 'signout' && request.method === 'POST') return handleConsoleSignOut(request, env);

  const who = await consoleWho(request, env);
  if (who.kind === 'anonymous') return signInPage();
  if (who.kind === 'not_admin') return pageResponse(403, 'Not an administrator', `<p>You are signed in as ${escapeHtml(who.label)}, who is not an administrator of this server.</p>`);
  const viewer: Viewer = { admin: who.admin, csrf: await csrfToken(env, who.session.sid) };

  if (request.method === 'POST' && ACTIONS.has(rest)) {
    const body = await request.formData().catch(() => null);
    const csrf = body?.get('csrf');
    if (!body || !sameOrigin(request, env) || !(await checkCsrf(env, who.session.sid, typeof csrf === 'string' ? csrf : null))) {
      const refused = pageResponse(403, 'Refused', '<p class="bad">This change did not carry the form’s CSRF token (or came from another site), so nothing was done.</p><p><a href="/admin">Back to the console</a></p>', viewer);
      await recordAdminRequest(request, env, refused, 0, who.admin);
      return refused;
    }
    const [group] = rest.split('/');
    const result = group === 'keys' ? await keysAction(rest.slice(5), request, env, who.admin, body) : group === 'alerts' ? await alertsAction(request, env, who.admin, body) : group === 'sessions' ? await sessionsAction(request, env, who.admin, body) : await clientsAction(rest, request, env, who.admin, body);
    return pageResponse(result.status, result.title, result.html, viewer);
  }
  const name = PAGES.find(([p]) => p === rest)?.[0];
  if (!name || request.method !== 'GET') return notFound();
  const started = Date.now();
  const response = pageResponse(200, PAGES.find(([p]) => p === name)?.[1] ?? '', await render(name, url, request, env, viewer), viewer, name);
  await recordAdminRequest(request, env, response, Date.now() - started, who.admin);
  return response;
}

function render(name: PageName, url: URL, request: Request, env: Env, viewer: Viewer): Promise<string> {
  switch (name) {
    case 'overview':
      return overviewPage(request, env);
    case 'keys':
      return keysPage(url, env, viewer);
    case 'clients':
      return clientsPage(url, env, viewer);
    case 'sessions':
      return sessionsPage(url, env, viewer);
    case 'audit':
      return auditPage(url, request, env);
    case 'alerts':
      return alertsPage(url, request, env, viewer);
    case 'tools':
      return toolsPage(env);
  }
}

function notFound(): Response {
  return pageResponse(404, 'Not found', '<p>There is no such console page. <a href="/admin">Back to the console</a>.</p>');
}
