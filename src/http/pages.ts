/** The pages a person sees (consent, errors): small server-rendered HTML, escaped, unframeable, never cached. */

const SCOPE_TEXT: Record<string, string> = {
  'support:read': 'Read customers, orders and support tickets',
  'sql:read': 'Run read-only SQL queries on the database',
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers every page carries (RFC 9700 §4.16: no framing; no referrer leaks codes or state). */
export function pageHeaders(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  h.set('content-type', 'text/html; charset=utf-8');
  h.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
  h.set('x-frame-options', 'DENY');
  h.set('referrer-policy', 'no-referrer');
  h.set('x-content-type-options', 'nosniff');
  h.set('cache-control', 'no-store');
  return h;
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
h1{font-size:1.4rem}.card{border:1px solid #d0d0d7;border-radius:12px;padding:1.25rem 1.5rem}
ul{padding-left:1.2rem}code{background:#f1f1f4;padding:.1rem .3rem;border-radius:4px}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}button{font:inherit;padding:.55rem 1.2rem;border-radius:8px;border:1px solid #8a8a99;background:#fff;cursor:pointer}
button.primary{background:#1f5fd6;border-color:#1f5fd6;color:#fff}.muted{color:#5b5b66;font-size:.9rem}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** What the consent page shows and posts back. */
export interface ConsentView {
  clientName: string | undefined;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  txn: string;
  csrf: string;
  userLabel?: string | undefined;
}

/** The consent page: who is asking (self-asserted name, shown as such), where it will send you, and what it may do. */
export function consentPage(view: ConsentView, headers?: HeadersInit): Response {
  const host = new URL(view.redirectUri).host || view.redirectUri;
  const name = view.clientName ? `<strong>${escapeHtml(view.clientName)}</strong> <span class="muted">(name given by the application)</span>` : '<strong>An application</strong>';
  const scopes = view.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)} <code>${escapeHtml(s)}</code></li>`).join('');
  const who = view.userLabel ? `<p class="muted">Signed in as ${escapeHtml(view.userLabel)}.</p>` : '';
  const body = `<main class="card"><h1>Allow access to your MCP server?</h1>
<p>${name} wants to use this server's tools on your behalf.</p>
<p>After you decide, you will be sent to <strong>${escapeHtml(host)}</strong> <span class="muted">(${escapeHtml(view.redirectUri)})</span>.</p>
<p>It asks to:</p><ul>${scopes}</ul>${who}
<form method="post" action="/authorize/consent">
<input type="hidden" name="txn" value="${escapeHtml(view.txn)}"><input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<div class="actions"><button class="primary" type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div></form>
<p class="muted">Client id: <code>${escapeHtml(view.clientId)}</code></p></main>`;
  return new Response(layout('Allow access?', body), { status: 200, headers: pageHeaders(headers) });
}

/** An error page (4xx, never a redirect); `continueUrl` offers the client's error response as a link the person may follow. */
export function errorPage(status: number, title: string, message: string, continueUrl?: string): Response {
  const link = continueUrl ? `<p><a href="${escapeHtml(continueUrl)}">Return to the application</a> <span class="muted">(${escapeHtml(new URL(continueUrl).host)})</span></p>` : '';
  const body = `<main class="card"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${link}</main>`;
  return new Response(layout(title, body), { status, headers: pageHeaders() });
}
