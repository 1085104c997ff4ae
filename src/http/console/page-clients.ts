/** Clients and grants: registered clients (dynamic, metadata-document, machine; paged), a machine client from its public keys, revoking a grant. */
import { SCOPES } from '../../auth/scopes.ts';
import type { Env } from '../../env.ts';
import { registry } from '../clients.ts';
import { changeAdmin } from './data.ts';
import { failed } from './page-keys.ts';
import { escapeHtml, field, form, pageNumber, pager, table, text, type Viewer, when } from './layout.ts';

const PAGE_SIZE = 20;

/** The clients page body. */
export async function clientsPage(url: URL, env: Env, viewer: Viewer): Promise<string> {
  const clients = [...(await registry(env).listClients())].reverse();
  const n = pageNumber(url);
  const rows = clients.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE).map((c) => [
    `<span class="mono">${escapeHtml(c.client_id)}</span>`,
    escapeHtml(c.client_name ?? '—'),
    escapeHtml(c.source),
    escapeHtml(c.token_endpoint_auth_method),
    escapeHtml(c.grant_types.join(' ')),
    c.owner ? `${escapeHtml(c.owner)} <span class="muted">(${escapeHtml(c.scope ?? '')})</span>` : escapeHtml(c.redirect_uris.join(' ')),
    when(c.created_at),
    clientSwitch(c.client_id, c.disabled_at ?? null, viewer),
  ]);
  const scopes = SCOPES.map((s) => `<label><input type="checkbox" name="scope" value="${s}"> ${s}</label>`).join(' ');
  const machine = form(
    '/admin/console/clients/create',
    viewer,
    `<h2 id="machine">Create a machine client</h2><p class="muted">For the client_credentials grant with private_key_jwt: paste the client's public keys (a JWKS). No secret is made.</p>
<label for="client_name">Client name</label><input id="client_name" name="client_name" required maxlength="100">
<label for="client_owner">Owner (the person it acts for)</label><input id="client_owner" name="owner" required maxlength="200">
<fieldset><legend>Scope</legend>${scopes}</fieldset>
<label for="jwks">Public keys (JWKS JSON)</label><textarea id="jwks" name="jwks" required spellcheck="false"></textarea>`,
    'Create machine client',
    'panel',
  );
  const grant = form(
    '/admin/console/grants/revoke',
    viewer,
    `<h2 id="grants">Revoke a grant</h2><p class="muted">Ends a person's grant (refresh tokens and access tokens) and every session on it, at their next request. Grant ids are on the Sessions page and in the audit trail.</p>
<label for="grant_id">Grant id</label><input id="grant_id" name="grant_id" required pattern="[A-Za-z0-9_-]{43}" size="48">`,
    'Revoke grant',
    'panel',
  );
  return `${table('Registered clients, newest first', ['Client id', 'Name (self-asserted)', 'Kind', 'Authentication', 'Grants', 'Owner or redirect URIs', 'Created', 'Status'], rows, 'clients')}${pager('/admin/console/clients', new URLSearchParams(), n, PAGE_SIZE, clients.length)}
<p class="muted">Disabling a client refuses it at /authorize and /token and revokes every grant issued to it, so its sessions get 401 from their next request; its registration is kept. Enabling it again lets new sign-ins through; the revoked grants stay revoked.</p>${machine}${grant}`;
}

/** The status cell: enabled or disabled (since when), with the button that flips it. */
function clientSwitch(clientId: string, disabledAt: string | null, viewer: Viewer): string {
  const hidden = `<input type="hidden" name="client_id" value="${escapeHtml(clientId)}">`;
  return disabledAt
    ? `<span class="bad">Disabled</span> <span class="muted">${when(disabledAt)}</span>${form('/admin/console/clients/enable', viewer, hidden, 'Enable', 'inline')}`
    : `Enabled${form('/admin/console/clients/disable', viewer, hidden, 'Disable', 'inline')}`;
}

/** The clients and grants actions. */
export async function clientsAction(action: string, request: Request, env: Env, admin: string, body: FormData): Promise<{ status: number; title: string; html: string }> {
  if (action === 'clients/disable' || action === 'clients/enable') {
    const clientId = field(body, 'client_id');
    const verb = action.slice('clients/'.length);
    const r = await changeAdmin(request, env, admin, `/admin/clients/${encodeURIComponent(clientId)}/${verb}`, {});
    if (r.status !== 200) return failed(r);
    const detail = verb === 'disable' ? ` ${escapeHtml(text(r.body.grants_revoked))} live grant(s) revoked: their sessions get 401 from their next request.` : ' New sign-ins are let through; grants revoked when it was disabled stay revoked.';
    return { status: 200, title: verb === 'disable' ? 'Client disabled' : 'Client enabled', html: `<p>Client <code>${escapeHtml(clientId)}</code> is ${verb}d.${detail}</p><p><a href="/admin/console/clients">Back to the clients</a></p>` };
  }
  if (action === 'clients/create') {
    let jwks: unknown;
    try {
      jwks = JSON.parse(field(body, 'jwks'));
    } catch {
      return failed({ status: 400, body: { error: 'invalid_request', error_description: 'the public keys are not JSON' } });
    }
    const r = await changeAdmin(request, env, admin, '/admin/clients', { client_name: field(body, 'client_name'), owner: field(body, 'owner'), scope: body.getAll('scope').map(String).join(' '), jwks });
    if (r.status !== 201) return failed(r);
    return { status: 201, title: 'Machine client created', html: `<p>Client id <code>${escapeHtml(text(r.body.client_id))}</code> (${escapeHtml(text(r.body.client_name))}), scope ${escapeHtml(text(r.body.scope))}. It signs its token requests with its own private key.</p><p><a href="/admin/console/clients">Back to the clients</a></p>` };
  }
  const grantId = field(body, 'grant_id');
  const r = await changeAdmin(request, env, admin, `/admin/grants/${encodeURIComponent(grantId)}/revoke`, {});
  if (r.status !== 200) return failed(r);
  return { status: 200, title: 'Grant revoked', html: `<p>Grant <code>${escapeHtml(grantId)}</code> is revoked: its tokens and sessions are refused from their next request.</p><p><a href="/admin/console/sessions">Back to the sessions</a></p>` };
}
