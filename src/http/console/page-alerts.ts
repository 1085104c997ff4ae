/** Alerts: from the alert hub (GET /admin/alerts, paged with `before`), acknowledged with POST /admin/alerts/:id/ack, kept current over /admin/alerts/live (the hub's state messages). */
import type { AlertView } from '../../contracts/alert-hub.ts';
import type { Env } from '../../env.ts';
import { changeAdmin, readAdmin } from './data.ts';
import { failed } from './page-keys.ts';
import { escapeHtml, field, form, table, type Viewer, when } from './layout.ts';

const PAGE_SIZE = 50;

/** The alerts of a GET /admin/alerts answer: a bare array, or `{ alerts, next_before }`. */
export function alertList(body: unknown): AlertView[] | null {
  if (Array.isArray(body)) return body as AlertView[];
  const inner = typeof body === 'object' && body !== null ? (body as { alerts?: unknown }).alerts : undefined;
  return Array.isArray(inner) ? (inner as AlertView[]) : null;
}

/** The alerts page body. */
export async function alertsPage(url: URL, request: Request, env: Env, viewer: Viewer): Promise<string> {
  if (!env.ALERT_HUB) return '<p role="status">The alert hub is not configured on this server (no ALERT_HUB binding), so there are no alerts to show.</p>';
  const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const before = url.searchParams.get('before');
  if (before) q.set('before', before);
  const openOnly = url.searchParams.get('open') === 'true';
  if (openOnly) q.set('open', 'true');
  const answer = await readAdmin(request, env, `/admin/alerts?${q.toString()}`);
  const alerts = alertList(answer.body);
  if (answer.status !== 200 || !alerts) return `<p class="bad" role="alert">The alert hub did not answer (HTTP ${answer.status}).</p>`;
  const rows = alerts.map((a) => [
    when(a.last_seen),
    escapeHtml(a.severity),
    escapeHtml(a.source),
    escapeHtml(a.title),
    String(a.count),
    escapeHtml(a.reasons.join('; ')),
    a.acknowledged ? `acknowledged by ${escapeHtml(a.acknowledged.by)}` : form('/admin/console/alerts/ack', viewer, `<input type="hidden" name="id" value="${escapeHtml(a.id)}">`, 'Acknowledge'),
  ]);
  const open = alerts.filter((a) => !a.acknowledged).length;
  const last = alerts.at(-1);
  const next = last && alerts.length === PAGE_SIZE ? `<p class="pager"><a rel="next" href="/admin/console/alerts?${escapeHtml(new URLSearchParams({ before: last.id, ...(openOnly ? { open: 'true' } : {}) }).toString())}">Older alerts</a></p>` : '';
  // Live updates replace the first page only: a page of older alerts stays as it was loaded.
  const live = !before && !openOnly;
  return `<p>Open alerts: <strong id="open-count">${open}</strong> · <a href="/admin/console/alerts?open=true">open only</a> · <a href="/admin/console/alerts">all</a></p>
<p id="live-status" class="status" role="status">${live ? 'Connecting for live updates…' : ''}</p>
<div id="alerts" data-live="${live ? 'true' : 'false'}">${table('Alerts, most recent first', ['Last seen', 'Severity', 'Source', 'Title', 'Count', 'Why', 'Acknowledged'], rows)}</div>${next}`;
}

/** POST /admin/console/alerts/ack. */
export async function alertsAction(request: Request, env: Env, admin: string, body: FormData): Promise<{ status: number; title: string; html: string }> {
  const id = field(body, 'id');
  const r = await changeAdmin(request, env, admin, `/admin/alerts/${encodeURIComponent(id)}/ack`, {});
  if (r.status !== 200) return failed(r);
  return { status: 200, title: 'Alert acknowledged', html: `<p>Alert <code>${escapeHtml(id)}</code> is acknowledged.</p><p><a href="/admin/console/alerts">Back to the alerts</a></p>` };
}
