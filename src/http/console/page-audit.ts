/** Audit: search with the command-line tool's filters (paged by event id), follow live (the script polls for newer events), download OCSF or ECS. */
import { AUDIT_TYPES, type AuditEvent } from '../../audit/event.ts';
import type { Env } from '../../env.ts';
import { readAdmin } from './data.ts';
import { escapeHtml, table, text, when } from './layout.ts';

const PAGE_SIZE = 50;
const FILTERS = ['since', 'until', 'user', 'agent', 'tool', 'type', 'outcome'] as const;

function actorText(e: AuditEvent): string {
  const a = e.actor;
  return a.admin ? `admin ${a.admin}` : a.agent_id ? `agent ${a.agent_id}` : a.user_id ? `user ${a.user_id}` : a.client_id ? `client ${a.client_id}` : '';
}

/** The audit page body. */
export async function auditPage(url: URL, request: Request, env: Env): Promise<string> {
  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    const v = url.searchParams.get(name)?.trim();
    if (v) filters.set(name, v);
  }
  if (!filters.has('since')) filters.set('since', new Date(Date.now() - 24 * 3600_000).toISOString());
  const q = new URLSearchParams(filters);
  const after = url.searchParams.get('after');
  if (after) q.set('after', after);
  q.set('limit', String(PAGE_SIZE + 1));
  const answer = await readAdmin(request, env, `/admin/audit/events?${q.toString()}`);
  let events: AuditEvent[] = [];
  let problem = '';
  if (answer.status !== 200) problem = typeof answer.body === 'object' && answer.body !== null ? text((answer.body as { error_description?: unknown }).error_description) || 'the search failed' : 'the search failed';
  else if (typeof answer.body === 'string') events = answer.body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
  else if (answer.body !== null) events = [answer.body as AuditEvent];
  const more = events.length > PAGE_SIZE;
  events = events.slice(0, PAGE_SIZE);
  const field = (name: string, label: string, type = 'text') => `<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${escapeHtml(filters.get(name) ?? '')}"></div>`;
  const select = (name: string, label: string, options: readonly string[]) =>
    `<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"><option value="">any</option>${options.map((o) => `<option${filters.get(name) === o ? ' selected' : ''}>${escapeHtml(o)}</option>`).join('')}</select></div>`;
  const search = `<form method="get" action="/admin/console/audit" class="filters" role="search">${field('since', 'Since (ISO time)')}${field('until', 'Until (ISO time)')}${field('user', 'User')}${field('agent', 'Agent')}${field('tool', 'Tool')}${select('type', 'Type', AUDIT_TYPES)}${select('outcome', 'Outcome', ['success', 'failure', 'denied'])}<div><button type="submit">Search</button></div></form>`;
  const rows = events.map((e) => [when(e.time), escapeHtml(e.type), `<span class="${e.outcome === 'success' ? 'ok' : 'bad'}">${escapeHtml(e.outcome)}</span>`, escapeHtml(actorText(e)), escapeHtml(e.tool ?? ''), `<span class="mono">${escapeHtml(e.session_id ?? '')}</span>`, escapeHtml(e.reason ?? e.error_code ?? '')]);
  const last = events.at(-1)?.id ?? '';
  const next = new URLSearchParams(filters);
  next.set('after', last);
  const download = (format: string) => {
    const d = new URLSearchParams(filters);
    d.set('format', format);
    d.set('limit', '10000');
    return `<a href="/admin/audit/events?${escapeHtml(d.toString())}" download="audit-${format}.ndjson">Download ${format.toUpperCase()} (NDJSON)</a>`;
  };
  return `${search}${problem ? `<p class="bad" role="alert">${escapeHtml(problem)}</p>` : ''}
<p>${download('ocsf')} · ${download('ecs')} · <button type="button" id="follow" class="secondary" aria-pressed="false">Follow live</button> <span id="follow-status" class="status" role="status"></span></p>
<div id="audit-rows" data-last="${escapeHtml(last)}" data-since="${escapeHtml(new Date().toISOString())}" data-filters="${escapeHtml(new URLSearchParams([...filters].filter(([k]) => k !== 'since')).toString())}">${table('Audit events, oldest first', ['Time', 'Type', 'Outcome', 'Actor', 'Tool', 'Session', 'Reason'], rows)}</div>
${more ? `<p class="pager"><a rel="next" href="/admin/console/audit?${escapeHtml(next.toString())}">Next page</a></p>` : '<p class="muted">End of the results.</p>'}`;
}
