/** Sessions: who is connected with which client or key (from the audit trail of the last hour, paged); end one by revoking its grant or key. */
import type { AuditEvent } from '../../audit/event.ts';
import { readAudit } from '../../audit/sink.ts';
import type { Env } from '../../env.ts';
import { escapeHtml, form, pageNumber, pager, table, when, type Viewer } from './layout.ts';

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

/** The sessions page body. */
export async function sessionsPage(url: URL, env: Env, viewer: Viewer): Promise<string> {
  const rows = await readAudit(env, { since: new Date(Date.now() - 3600_000).toISOString(), limit: 10_000 });
  const sessions = sessionsSeen(rows.map((r) => r.event));
  const n = pageNumber(url);
  const cells = sessions.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE).map((s) => {
    const end = s.grantId
      ? form('/admin/console/grants/revoke', viewer, `<input type="hidden" name="grant_id" value="${escapeHtml(s.grantId)}">`, 'End (revoke grant)', 'inline')
      : s.keyId
        ? form('/admin/console/keys/revoke', viewer, `<input type="hidden" name="key_id" value="${escapeHtml(s.keyId)}">`, 'End (revoke key)', 'inline')
        : '';
    return [`<span class="mono">${escapeHtml(s.sessionId.slice(0, 12))}…</span>`, escapeHtml(s.who), escapeHtml(s.via), String(s.calls), when(s.lastSeen), end];
  });
  return `<p class="muted">Sessions with audited activity in the last hour. Ending one revokes the grant or key it runs on, so every session of that grant or key is refused from its next request.</p>
${table('Sessions, most recently active first', ['Session', 'Person or owner', 'Client or agent', 'Tool calls', 'Last activity', 'End'], cells, 'sessions')}${pager('/admin/console/sessions', new URLSearchParams(), n, PAGE_SIZE, sessions.length)}`;
}
