/** The invariants every edge checks: no 5xx, nothing leaked, the typed error shape of each surface. Pure functions over a captured response. */
import type { Violation } from './runner.ts';

/** A response read once: status, headers and body text. */
export interface Seen {
  status: number;
  headers: Headers;
  text: string;
}

/** Reads a response completely (bodies are small on every refusal). */
export async function capture(response: Response): Promise<Seen> {
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const LEAKS: Array<[string, RegExp]> = [
  ['stack trace', /\n\s+at [^\n]*[:(]\d+|\bat [\w$.<>]+ \([^)]*:\d+:\d+\)/],
  ['exception name', /\b(TypeError|RangeError|ReferenceError|SyntaxError|ZodError|AggregateError|InternalError)\b/],
  ['local file path', /(?:file:\/\/|\/(?:home|root|usr|tmp|var|opt|Users|work|srv)\/[\w.-]+\/|[A-Za-z]:\\[\w.-]+\\|node_modules|\.(?:ts|mjs|js):\d+)/],
  ['SQL text', /\b(?:ER_[A-Z_]{4,}|SQLSTATE|sqlMessage)\b/],
];

/** A body must not carry a stack trace, a file path, an exception name, or a secret — unless the request itself sent that text (an echo). */
export function noLeak(seen: Seen, sent: string, secrets: string[]): Violation[] {
  const out: Violation[] = [];
  for (const [name, pattern] of LEAKS) {
    const match = pattern.exec(seen.text);
    if (match && !sent.includes(match[0])) out.push({ invariant: `no ${name} in a body`, detail: `${seen.status}: …${excerpt(seen.text, match.index)}…` });
  }
  for (const secret of secrets) {
    if (secret.length >= 12 && seen.text.includes(secret) && !sent.includes(secret)) out.push({ invariant: 'no secret in a body', detail: `status ${seen.status}` });
  }
  return out;
}

/** Never a 5xx. */
export function no5xx(seen: Seen): Violation[] {
  return seen.status >= 500 ? [{ invariant: 'never a 5xx', detail: `${seen.status} ${seen.headers.get('content-type') ?? ''}: ${excerpt(seen.text, 0)}` }] : [];
}

function excerpt(text: string, at: number): string {
  return JSON.stringify(text.slice(Math.max(0, at - 60), at + 140));
}

function mediaType(seen: Seen): string {
  return (seen.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON-RPC error codes a client may see from /mcp for its own bad input; -32603 (internal) never is one. */
const CLIENT_RPC_CODES = new Set([-32700, -32600, -32601, -32602, -32000, -32001, -32002, -32003, -32029, -32042]);
/** A validator dump (zod issues as JSON) in a message, instead of a short sentence naming the parameter. */
const DUMP = /\[\s*\{\s*"|"(?:code|expected|path|received)"\s*:/;
const MAX_MESSAGE = 300;

/** One JSON-RPC error object as /mcp must send it: an integer code of the client family, a short message. */
export function rpcError(error: unknown, where: string): Violation[] {
  if (!isObject(error) || typeof error.code !== 'number' || !Number.isInteger(error.code) || typeof error.message !== 'string') {
    return [{ invariant: 'JSON-RPC error object shape', detail: `${where}: ${JSON.stringify(error)?.slice(0, 200)}` }];
  }
  const out: Violation[] = [];
  if (!CLIENT_RPC_CODES.has(error.code)) out.push({ invariant: `a client error is not ${error.code === -32603 ? '-32603 (internal)' : 'an unknown code'}`, detail: `${where}: ${error.code} ${error.message.slice(0, 200)}` });
  if (error.message.length > MAX_MESSAGE || DUMP.test(error.message)) out.push({ invariant: 'error message is short, not a validator dump', detail: `${where}: ${error.code} ${error.message.slice(0, 200)}` });
  return out;
}

/** The JSON-RPC messages of a 200 answer (JSON or SSE). */
export function rpcMessages(seen: Seen): unknown[] {
  if (mediaType(seen) === 'application/json') return [parse(seen.text)];
  if (mediaType(seen) !== 'text/event-stream') return [];
  const out: unknown[] = [];
  for (const block of seen.text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (data !== '') out.push(parse(data));
  }
  return out;
}

/** The /mcp surface: 4xx are JSON-RPC error bodies (id null), 401 carries a Bearer challenge; errors inside 200 answers are typed too. */
export function mcpShape(seen: Seen): Violation[] {
  const out: Violation[] = [];
  if (seen.status >= 400 && seen.status < 500) {
    const body = parse(seen.text);
    if (mediaType(seen) !== 'application/json' || !isObject(body) || body.jsonrpc !== '2.0' || !('id' in body)) {
      out.push({ invariant: '/mcp refusal is a JSON-RPC error body', detail: `${seen.status} ${mediaType(seen)}: ${excerpt(seen.text, 0)}` });
    } else {
      out.push(...rpcError(body.error, `HTTP ${seen.status}`));
    }
    if (seen.status === 401 && !/^Bearer .*resource_metadata="/.test(seen.headers.get('www-authenticate') ?? '')) {
      out.push({ invariant: '401 on /mcp carries WWW-Authenticate: Bearer … resource_metadata', detail: String(seen.headers.get('www-authenticate')) });
    }
  } else if (seen.status === 200) {
    for (const message of rpcMessages(seen)) {
      if (isObject(message) && 'error' in message) out.push(...rpcError(message.error, 'in a 200 answer'));
    }
  } else if (![202, 204, 405].includes(seen.status) && seen.status < 500) {
    out.push({ invariant: '/mcp answers a known status', detail: String(seen.status) });
  }
  return out;
}

/** RFC 6749 §5.2 / RFC 7591 §3.2.2 error codes (and what this server adds). */
const OAUTH_CODES = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'unsupported_response_type', 'invalid_scope', 'invalid_target', 'access_denied', 'invalid_redirect_uri', 'invalid_client_metadata', 'unsupported_token_type']);

/** /token, /revoke, /register: 4xx are `{error, error_description}` JSON, never cached; 401 carries WWW-Authenticate. */
export function oauthShape(seen: Seen, okStatuses: number[]): Violation[] {
  if (okStatuses.includes(seen.status) || seen.status >= 500) return [];
  const out: Violation[] = [];
  const body = parse(seen.text);
  if (seen.status < 400 || mediaType(seen) !== 'application/json' || !isObject(body) || typeof body.error !== 'string' || !OAUTH_CODES.has(body.error) || (body.error_description !== undefined && typeof body.error_description !== 'string')) {
    out.push({ invariant: 'OAuth error body {error, error_description}', detail: `${seen.status} ${mediaType(seen)}: ${excerpt(seen.text, 0)}` });
  }
  if (!/no-store/.test(seen.headers.get('cache-control') ?? '')) out.push({ invariant: 'OAuth error is never cached (no-store)', detail: `${seen.status}` });
  if (seen.status === 401 && !seen.headers.get('www-authenticate')) out.push({ invariant: '401 carries WWW-Authenticate', detail: seen.text.slice(0, 120) });
  return out;
}

const ADMIN_CODES = new Set(['unauthorized', 'invalid_request', 'not_found', 'conflict', 'method_not_allowed']);

/** The admin API: refusals are `{error, error_description}` JSON with its closed set of codes; 401 carries `Bearer realm="admin"`. */
export function adminShape(seen: Seen): Violation[] {
  if (seen.status < 400 || seen.status >= 500) return [];
  const body = parse(seen.text);
  const out: Violation[] = [];
  if (mediaType(seen) !== 'application/json' || !isObject(body) || typeof body.error !== 'string' || !ADMIN_CODES.has(body.error) || typeof body.error_description !== 'string') {
    out.push({ invariant: 'admin refusal is {error, error_description}', detail: `${seen.status} ${mediaType(seen)}: ${excerpt(seen.text, 0)}` });
  }
  if (seen.status === 401 && !/^Bearer realm="admin"/.test(seen.headers.get('www-authenticate') ?? '')) out.push({ invariant: 'admin 401 carries WWW-Authenticate', detail: String(seen.headers.get('www-authenticate')) });
  return out;
}

/** The authorization endpoint: a page (200 consent, 400 error) or a redirect to the upstream provider only; no link to a URI the client did not register. */
export function authorizeShape(seen: Seen, upstreamOrigin: string, registered: string[]): Violation[] {
  const out: Violation[] = [];
  if (seen.status === 302 || seen.status === 303) {
    const location = seen.headers.get('location') ?? '';
    if (!location.startsWith(upstreamOrigin)) out.push({ invariant: 'authorize redirects only to the upstream provider', detail: location.slice(0, 200) });
  } else if (seen.status === 200 || seen.status === 400) {
    if (mediaType(seen) !== 'text/html') out.push({ invariant: 'authorize answers an HTML page', detail: `${seen.status} ${mediaType(seen)}` });
    for (const match of seen.text.matchAll(/href="([^"]*)"/g)) {
      const href = (match[1] ?? '').replaceAll('&amp;', '&');
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !registered.some((uri) => sameRedirect(href, uri))) out.push({ invariant: 'authorize links only to a registered redirect URI', detail: href.slice(0, 200) });
    }
  } else if (seen.status < 500) {
    out.push({ invariant: 'authorize answers 200, 302 or 400', detail: String(seen.status) });
  }
  return out;
}

/** Whether a link goes to a registered redirect URI; loopback IP URIs match on any port (RFC 8252 §7.3). */
export function sameRedirect(href: string, registered: string): boolean {
  if (href.startsWith(registered)) return true;
  try {
    const a = new URL(href);
    const b = new URL(registered);
    const loopback = b.protocol === 'http:' && (b.hostname === '127.0.0.1' || b.hostname === '[::1]');
    return loopback && a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname;
  } catch {
    return false;
  }
}
