/** Sessions: the open MCP sessions from the session index (paged), who with which client or key, the last audited activity; end one session alone. */
import type { AuditEvent } from '../../audit/event.ts';
import { readAudit } from '../../audit/sink.ts';
import type { Env } from '../../env.ts';
import { listOpenSessions } from '../../sessions/index.ts';
import { registry } from '../clients.ts';
import { changeAdmin } from './data.ts';
import { escapeHtml, field, form, pageNumber, pager, table, when, type Viewer } from './layout.ts';
import { failed } from './page-keys.ts';

const PAGE_SIZE = 20;

/** One session as the trail shows it. */
export interface SessionSeen {
  sessionId: string;
  who: string;
  via: string;
  grantId?: string | undefined;
  keyId?: string | undefined;
  calls: number;
  lastSeen: string;
}

/** Groups events by session, most recently active first. */
export function sessionsSeen(events: readonly AuditEvent[]): SessionSeen[] {
  const byId = new Map<string, SessionSeen>();
  for (const e of events) {
    if (!e.session_id) continue;
    const a = e.actor;
    const s = byId.get(e.session_id) ?? { sessionId: e.session_id, who: '', via: '', calls: 0, lastSeen: e.time };
    s.who ||= a.email ?? a.owner ?? a.user_id ?? '';
    s.via ||= a.agent_id ? `agent ${a.agent_id}` : a.client_id ? `client ${a.client_id}` : '';
    s.grantId ??= a.grant_id;
    s.keyId ??= a.key_id;
    if (e.type === 'tool.call') s.calls += 1;
    if (e.time > s.lastSeen) s.lastSeen = e.time;
    byId.set(e.session_id, s);
  }
  return [...byId.values()].sort((x, y) => (x.lastSeen < y.lastSeen ? 1 : -1));
}

/** The sessions page body: the open sessions from the session index, with the last audited activity of each. */
export async function sessionsPage(url: URL, env: Env, viewer: Viewer): Promise<string> {
  const n = pageNumber(url);
  const [{ sessions, total }, rows, clients] = await Promise.all([
    listOpenSessions(env, n, PAGE_SIZE),
    readAudit(env, { since: new Date(Date.now() - 3600_000).toISOString(), limit: 10_000 }),
    registry(env).listClients(),
  ]);
  const seen = new Map(sessionsSeen(rows.map((r) => r.event)).map((s) => [s.sessionId, s]));
  const names = new Map(clients.map((c) => [c.client_id, c.client_name]));
  const cells = sessions.map((s) => {
    const activity = seen.get(s.session_id);
    const registered = s.client_id ? names.get(s.client_id) : undefined;
    const via =
      s.kind === 'agent'
        ? `agent ${escapeHtml(s.agent_id ?? '')} <span class="muted mono">key ${escapeHtml((s.key_id ?? '').slice(0, 12))}…</span>`
        : `${escapeHtml(registered ?? s.client_name ?? '—')} <span class="muted mono">${escapeHtml((s.client_id ?? '').slice(0, 40))}</span>`;
    const end = form('/admin/console/sessions/end', viewer, `<input type="hidden" name="session_id" value="${escapeHtml(s.session_id)}">`, 'End', 'inline');
    // Revoking the whole grant (every session on it, its refresh tokens) stays one click away for a person's session.
    const revoke = s.grant_id ? form('/admin/console/grants/revoke', viewer, `<input type="hidden" name="grant_id" value="${escapeHtml(s.grant_id)}">`, 'Revoke grant', 'inline') : '';
    return [
      `<span class="mono">${escapeHtml(s.session_id.slice(0, 12))}…</span>`,
      escapeHtml(s.email ?? s.user_id),
      via,
      escapeHtml(s.revision),
      when(new Date(s.opened_at).toISOString()),
      activity ? `${when(activity.lastSeen)} <span class="muted">(${activity.calls} tool calls)</span>` : '<span class="muted">no audited call in the last hour</span>',
      `${end}${revoke}`,
    ];
  });
  return `<p class="muted">Open MCP sessions (revision 2025-11-25 and earlier), from the session index: a session is listed when its initialize succeeds and removed when it ends (DELETE, ${escapeHtml(String(env.SESSION_IDLE_SECONDS ?? 'the idle'))} s idle, or an administrator). Requests of the stateless 2026-07-28 revision open no session, so they are not listed here (they are on the Audit page). “Last activity” is the newest audited event of the session in the last hour, as delivered to the audit trail (a second or two behind). “End” ends that session alone: its next request gets 404, its grant or key and other sessions keep working; “Revoke grant” ends the person's grant and every session on it. A session whose grant or key was revoked refuses every request and stays listed until its idle expiry.</p>
${table('Open sessions, newest first', ['Session', 'Person or owner', 'Client or agent', 'Revision', 'Opened', 'Last activity', 'End it'], cells, 'sessions')}${pager('/admin/console/sessions', new URLSearchParams(), n, PAGE_SIZE, total)}`;
}

/** The End action: one session ended through the admin API, naming the administrator. */
export async function sessionsAction(request: Request, env: Env, admin: string, body: FormData): Promise<{ status: number; title: string; html: string }> {
  const sessionId = field(body, 'session_id');
  const r = await changeAdmin(request, env, admin, `/admin/sessions/${encodeURIComponent(sessionId)}/end`, {});
  if (r.status !== 200) return failed(r);
  return { status: 200, title: 'Session ended', html: `<p>Session <code>${escapeHtml(sessionId)}</code> is ended: its next request gets 404. The grant or key it ran on and the other sessions keep working.</p><p><a href="/admin/console/sessions">Back to the sessions</a></p>` };
}
