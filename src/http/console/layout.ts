/** The console's page frame: strict headers (no inline script), the navigation, and small escaped HTML helpers. */
import { escapeHtml } from '../pages.ts';

export { escapeHtml };

/** The console pages, in navigation order: path segment and title. */
export const PAGES = [
  ['overview', 'Overview'],
  ['keys', 'Keys'],
  ['clients', 'Clients and grants'],
  ['sessions', 'Sessions'],
  ['audit', 'Audit'],
  ['alerts', 'Alerts'],
  ['tools', 'Tools'],
] as const;

/** A page name. */
export type PageName = (typeof PAGES)[number][0];

/** Content-Security-Policy of every console page: nothing inline, scripts and styles only from this server. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers of every console page. */
export function consoleHeaders(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  h.set('content-type', 'text/html; charset=utf-8');
  h.set('content-security-policy', CONSOLE_CSP);
  h.set('x-frame-options', 'DENY');
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the console's own form posts, which the same-origin check refuses.
  h.set('referrer-policy', 'same-origin');
  h.set('x-content-type-options', 'nosniff');
  h.set('cache-control', 'no-store');
  h.set('cross-origin-opener-policy', 'same-origin');
  return h;
}

/** Who is looking at a page, and the token their forms carry. */
export interface Viewer {
  admin: string;
  csrf: string;
}

/** A whole console page; `viewer` absent for the sign-in and refusal pages (no navigation). */
export function page(title: string, body: string, viewer?: Viewer, current?: PageName): string {
  const nav = viewer
    ? `<nav aria-label="Console"><ul>${PAGES.map(([name, label]) => `<li><a href="/admin/console/${name}"${name === current ? ' aria-current="page"' : ''}>${label}</a></li>`).join('')}</ul>
<form method="post" action="/admin/console/signout" class="signout"><input type="hidden" name="csrf" value="${escapeHtml(viewer.csrf)}"><span class="muted">${escapeHtml(viewer.admin)}</span> <button type="submit">Sign out</button></form></nav>`
    : '';
  const csrfMeta = viewer ? `<meta name="csrf-token" content="${escapeHtml(viewer.csrf)}">` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${csrfMeta}<title>${escapeHtml(title)} · MCP server console</title><link rel="stylesheet" href="/admin/console/static/console.css"><script src="/admin/console/static/console.js" defer></script></head>
<body><header><p class="brand">MCP server console</p>${nav}</header><main id="main"><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/** A console page response. */
export function pageResponse(status: number, title: string, body: string, viewer?: Viewer, current?: PageName, headers?: HeadersInit): Response {
  return new Response(page(title, body, viewer, current), { status, headers: consoleHeaders(headers) });
}

/** A table with a caption; `rows` are already-escaped cells. */
export function table(caption: string, head: readonly string[], rows: readonly (readonly string[])[], id?: string): string {
  const body = rows.length === 0 ? `<tr><td colspan="${head.length}" class="muted">Nothing to show.</td></tr>` : rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table${id ? ` id="${id}"` : ''}><caption>${escapeHtml(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A POST form with the CSRF token; `fields` is already-escaped HTML. */
export function form(action: string, viewer: Viewer, fields: string, button: string, extraClass = ''): string {
  return `<form method="post" action="${escapeHtml(action)}" class="${extraClass}"><input type="hidden" name="csrf" value="${escapeHtml(viewer.csrf)}">${fields}<button type="submit">${escapeHtml(button)}</button></form>`;
}

/** "Previous / next" links for a page of `pageSize` out of `total` items, keeping the query `base`. */
export function pager(path: string, base: URLSearchParams, pageNo: number, pageSize: number, total: number): string {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number, text: string, rel: string) => {
    const q = new URLSearchParams(base);
    q.set('page', String(n));
    return `<a href="${escapeHtml(`${path}?${q.toString()}`)}" rel="${rel}">${text}</a>`;
  };
  return `<p class="pager">${pageNo > 1 ? link(pageNo - 1, 'Previous page', 'prev') : ''} <span>Page ${pageNo} of ${pages} (${total} in all)</span> ${pageNo < pages ? link(pageNo + 1, 'Next page', 'next') : ''}</p>`;
}

/** The page number asked for (1 when absent or malformed). */
export function pageNumber(url: URL): number {
  const n = Number(url.searchParams.get('page') ?? '1');
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1;
}

/** An ISO time shortened for a table, or a dash. */
export function when(iso: unknown): string {
  return typeof iso === 'string' ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</time>` : '—';
}

/** A text field of a submitted form ('' when absent or a file). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v : '';
}

/** A value from a JSON answer as text ('' unless a string or number). */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
