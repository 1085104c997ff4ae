/** Keys: the list (newest first, paged, read live from each key's object), create, rotate with overlap, revoke; a new secret is shown once, with a copy button. */
import { SCOPES } from '../../auth/scopes.ts';
import type { Env } from '../../env.ts';
import { CATALOG } from '../../mcp/server.ts';
import { keySummary } from '../admin.ts';
import { registry } from '../clients.ts';
import { changeAdmin } from './data.ts';
import { escapeHtml, field, form, pageNumber, pager, table, text, type Viewer, when } from './layout.ts';

const PAGE_SIZE = 20;

function limits(k: Record<string, unknown>): string {
  const rate = k.rate_limit as { requests: number; per_seconds: number } | undefined;
  const tools = Object.entries((k.tool_limits ?? {}) as Record<string, { requests: number; per_seconds: number }>);
  return escapeHtml([rate ? `${rate.requests}/${rate.per_seconds}s` : '', ...tools.map(([t, r]) => `${t}: ${r.requests}/${r.per_seconds}s`)].filter(Boolean).join('; '));
}

/** The keys page body. */
export async function keysPage(url: URL, env: Env, viewer: Viewer): Promise<string> {
  const ids = [...(await registry(env).listKeys())].reverse();
  const n = pageNumber(url);
  const slice = ids.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
  const shown = await Promise.all(slice.map((id) => env.API_KEY.get(env.API_KEY.idFromName(id)).show()));
  const rows = shown.flatMap((s) => {
    if (!s) return [];
    const k = keySummary(s.record);
    const id = String(k.key_id);
    const active = k.status === 'active';
    const actions = active
      ? form('/admin/console/keys/rotate', viewer, `<input type="hidden" name="key_id" value="${escapeHtml(id)}"><label for="ov-${escapeHtml(id)}">Overlap (s)</label><input id="ov-${escapeHtml(id)}" name="overlap_seconds" type="number" min="0" max="604800" value="3600" size="7">`, 'Rotate', 'inline') +
        form('/admin/console/keys/revoke', viewer, `<input type="hidden" name="key_id" value="${escapeHtml(id)}">`, 'Revoke', 'inline revoke')
      : '';
    return [[`<span class="mono">${escapeHtml(id.slice(0, 12))}…</span>`, escapeHtml(String(k.agent_name)), escapeHtml(String(k.owner)), escapeHtml((k.scopes as string[]).join(' ')), limits(k), `<span class="${active ? 'ok' : 'bad'}">${escapeHtml(String(k.status))}</span>`, when(k.last_used_at), when(k.expires_at), actions]];
  });
  const scopes = SCOPES.map((s, i) => `<label><input type="checkbox" name="scopes" value="${s}"${i === 0 ? ' checked' : ''}> ${s}</label>`).join(' ');
  const tools = CATALOG.map((t) => `<option value="${escapeHtml(t.name)}">${escapeHtml(t.name)}</option>`).join('');
  const create = form(
    '/admin/console/keys/create',
    viewer,
    `<h2 id="create">Create a key</h2>
<label for="agent_name">Agent name</label><input id="agent_name" name="agent_name" required maxlength="100">
<label for="owner">Owner (the person the agent acts for)</label><input id="owner" name="owner" required maxlength="200">
<fieldset><legend>Scopes</legend>${scopes}</fieldset>
<label for="expires_days">Expires after (days)</label><input id="expires_days" name="expires_days" type="number" min="1" max="366" value="90">
<fieldset><legend>Rate limit</legend><label for="rate_requests">Requests</label> <input id="rate_requests" name="rate_requests" type="number" min="1" value="60" size="6"> <label for="rate_per">per seconds</label> <input id="rate_per" name="rate_per_seconds" type="number" min="1" value="60" size="6"></fieldset>
<fieldset><legend>Optional limit for one tool</legend><label for="tool_limit_tool">Tool</label> <select id="tool_limit_tool" name="tool_limit_tool"><option value="">none</option>${tools}</select> <label for="tool_limit_requests">Requests per minute</label> <input id="tool_limit_requests" name="tool_limit_requests" type="number" min="1" size="6"></fieldset>`,
    'Create key',
    'panel',
  );
  return `${table('API keys, newest first', ['Key id', 'Agent', 'Owner', 'Scopes', 'Limits', 'Status', 'Last use', 'Expires', 'Actions'], rows, 'keys')}${pager('/admin/console/keys', new URLSearchParams(), n, PAGE_SIZE, ids.length)}${create}`;
}

function num(form: FormData, name: string, fallback: number): number {
  const v = form.get(name);
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : fallback;
  return Number.isFinite(n) ? n : fallback;
}

function shownOnce(title: string, key: string, note: string): string {
  return `<p>${escapeHtml(note)}</p><div class="secret"><code id="new-key">${escapeHtml(key)}</code><button type="button" data-copy="new-key">Copy</button></div><p id="copy-status" class="status" role="status"></p>
<p><strong>${escapeHtml(title)}:</strong> this is the only time the key is shown; it is stored only as a hash.</p><p><a href="/admin/console/keys">Back to the keys</a></p>`;
}

/** The keys actions (create, rotate, revoke): the admin API's answer as a page. */
export async function keysAction(action: string, request: Request, env: Env, admin: string, body: FormData): Promise<{ status: number; title: string; html: string }> {
  const keyId = field(body, 'key_id');
  if (action === 'create') {
    const tool = field(body, 'tool_limit_tool');
    const toolRequests = num(body, 'tool_limit_requests', 0);
    const r = await changeAdmin(request, env, admin, '/admin/keys', {
      agent_name: field(body, 'agent_name'),
      owner: field(body, 'owner'),
      scopes: body.getAll('scopes').map(String),
      expires_in: Math.round(num(body, 'expires_days', 90) * 86_400),
      rate_limit: { requests: num(body, 'rate_requests', 60), per_seconds: num(body, 'rate_per_seconds', 60) },
      ...(tool && toolRequests > 0 ? { tool_limits: { [tool]: { requests: toolRequests, per_seconds: 60 } } } : {}),
    });
    if (r.status !== 201) return failed(r);
    return { status: 201, title: 'Key created', html: shownOnce('Copy it now', text(r.body.key), `Key ${text(r.body.key_id)} for ${text(r.body.agent_name)} (owner ${text(r.body.owner)}), scopes ${(r.body.scopes as string[]).join(' ')}.`) };
  }
  if (action === 'rotate') {
    const r = await changeAdmin(request, env, admin, `/admin/keys/${encodeURIComponent(keyId)}/rotate`, { overlap_seconds: num(body, 'overlap_seconds', 3600) });
    if (r.status !== 200) return failed(r);
    return { status: 200, title: 'Key rotated', html: shownOnce('Copy it now', text(r.body.key), `The previous secret keeps working until ${text(r.body.previous_retires_at)}.`) };
  }
  const r = await changeAdmin(request, env, admin, `/admin/keys/${encodeURIComponent(keyId)}/revoke`, {});
  if (r.status !== 200) return failed(r);
  return { status: 200, title: 'Key revoked', html: `<p>Key <code>${escapeHtml(keyId)}</code> is revoked: its next request is refused (401).</p><p><a href="/admin/console/keys">Back to the keys</a></p>` };
}

/** The page for a refused change: the admin API's error. */
export function failed(r: { status: number; body: Record<string, unknown> }): { status: number; title: string; html: string } {
  return { status: r.status, title: 'Not done', html: `<p class="bad">${escapeHtml(text(r.body.error) || 'error')}: ${escapeHtml(text(r.body.error_description))}</p><p><a href="/admin">Back to the console</a></p>` };
}
