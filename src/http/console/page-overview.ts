/** Overview: live sessions, calls and denials per minute (charts), keys, clients and open alerts, from the audit trail and the registry. */
import type { AuditEvent } from '../../audit/event.ts';
import { readAudit } from '../../audit/sink.ts';
import type { Env } from '../../env.ts';
import { registry } from '../clients.ts';
import { barChart } from './charts.ts';
import { readAdmin } from './data.ts';
import { escapeHtml } from './layout.ts';
import { alertList } from './page-alerts.ts';
import { listOpenSessions } from '../../sessions/index.ts';
import { deliveryStats } from '../admin-delivery.ts';
import { deliverySection } from './delivery.ts';

const MINUTES = 60;

/** Per-minute counts of tool calls and denials over the last hour, and the sessions seen in the last 15 minutes. */
export function activity(events: readonly AuditEvent[], now: number): { calls: number[]; denials: number[]; liveSessions: number } {
  const calls = new Array<number>(MINUTES).fill(0);
  const denials = new Array<number>(MINUTES).fill(0);
  const sessions = new Set<string>();
  for (const e of events) {
    const t = Date.parse(e.time);
    const slot = MINUTES - 1 - Math.floor((now - t) / 60_000);
    if (slot < 0 || slot >= MINUTES) continue;
    if (e.type === 'tool.call') calls[slot] = (calls[slot] ?? 0) + 1;
    if (e.outcome === 'denied') denials[slot] = (denials[slot] ?? 0) + 1;
    if (e.session_id && now - t <= 15 * 60_000) sessions.add(e.session_id);
  }
  return { calls, denials, liveSessions: sessions.size };
}

function card(label: string, value: string, note: string): string {
  return `<div class="card"><p class="n">${value}</p><p>${escapeHtml(label)}</p><p class="muted">${escapeHtml(note)}</p></div>`;
}

/** The overview page body. */
export async function overviewPage(request: Request, env: Env): Promise<string> {
  const now = Date.now();
  const rows = await readAudit(env, { since: new Date(now - MINUTES * 60_000).toISOString(), limit: 10_000 });
  const { calls, denials, liveSessions } = activity(
    rows.map((r) => r.event),
    now,
  );
  const [keys, clients, open, delivery] = await Promise.all([registry(env).listKeys(), registry(env).listClients(), listOpenSessions(env, 1, 1), deliveryStats(env, 15)]);
  let openAlerts = 'not configured';
  if (env.ALERT_HUB) {
    const open = await readAdmin(request, env, '/admin/alerts?open=true&limit=100');
    const list = alertList(open.body);
    openAlerts = list ? String(list.length) + (list.length === 100 ? '+' : '') : 'unavailable';
  }
  const cards = [
    card('Open sessions', String(open.total), `from the session index; ${liveSessions} with audited activity in the last 15 minutes`),
    card('Tool calls, last hour', String(calls.reduce((a, b) => a + b, 0)), 'tool.call events'),
    card('Denials, last hour', String(denials.reduce((a, b) => a + b, 0)), 'events with outcome denied'),
    card('Open alerts', escapeHtml(openAlerts), 'unacknowledged, from the alert hub'),
    card('API keys', String(keys.length), 'created, any status'),
    card('Clients', String(clients.length), 'registered, metadata-document and machine'),
  ].join('');
  return `<section aria-labelledby="now"><h2 id="now">Now</h2><div class="cards">${cards}</div></section>
<section aria-labelledby="charts"><h2 id="charts">The last hour</h2>${barChart('Tool calls per minute', calls, '#1f4fb0', 'calls')}${barChart('Denials per minute', denials, '#a4161a', 'denials')}
${deliverySection(delivery)}
<p class="muted">${rows.length === 10_000 ? 'More than 10,000 events in the hour: the counts are of the first 10,000.' : `From ${rows.length} audit events.`}</p></section>`;
}
