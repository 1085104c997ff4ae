/** Redirect URI rules: what a client may register (RFC 8252, RFC 9700 §4.1) and exact matching at /authorize (OAuth 2.1 §2.3, §8.4.2). Pure. */

/** The longest redirect URI accepted at registration, in characters. */
export const MAX_REDIRECT_URI_LENGTH = 2000;

/** Why a redirect URI cannot be registered. */
export type RedirectUriRejectionReason =
  | 'too_long'
  | 'dangerous_scheme'
  | 'invalid_characters'
  | 'relative'
  | 'unparseable'
  | 'fragment'
  | 'userinfo'
  | 'wildcard_host'
  | 'insecure_http'
  | 'unsupported_scheme';

/** A refused redirect URI; `description` is fixed text (it never echoes the URI). */
export type RedirectUriRejection = { ok: false; reason: RedirectUriRejectionReason; description: string };

const DESCRIPTIONS: Record<RedirectUriRejectionReason, string> = {
  too_long: `redirect URI is longer than ${MAX_REDIRECT_URI_LENGTH} characters`,
  dangerous_scheme: 'redirect URI scheme is not allowed (javascript, data, vbscript, file)',
  invalid_characters: 'redirect URI must be printable ASCII URI characters with valid percent-encoding',
  relative: 'redirect URI must be an absolute URI',
  unparseable: 'redirect URI is not a valid URI',
  fragment: 'redirect URI must not contain a fragment',
  userinfo: 'redirect URI must not contain user information',
  wildcard_host: 'redirect URI host must not contain a wildcard',
  insecure_http: 'http redirect URIs are allowed only for 127.0.0.1, [::1] and localhost',
  unsupported_scheme: 'redirect URI must use https, loopback http, or a private-use scheme with a dot (com.example.app)',
};

const DANGEROUS_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const LOOPBACK_PREFIXES = ['http://127.0.0.1', 'http://[::1]', 'http://localhost'] as const;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// RFC 3986 §2: unreserved, reserved and '%' followed by two hex digits; nothing else.
// eslint-disable-next-line security/detect-unsafe-regex -- one alternation of single characters or a fixed three-character escape: linear
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;

/**
 * Whether a client may register `uri`. Accepted: absolute `https` URIs; `http` only to the
 * literal loopback hosts 127.0.0.1, [::1] and localhost; private-use schemes of native apps
 * containing a dot (RFC 8252 §7.1, `com.example.app:/cb`). Refused: script, data and file
 * schemes (in any case, behind leading spaces or control characters), fragments, userinfo,
 * wildcard hosts, relative URIs, anything that is not plain RFC 3986 ASCII, over 2,000 characters.
 */
export function checkRedirectUriForRegistration(uri: string): { ok: true } | RedirectUriRejection {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return reject('too_long');
  // Read the scheme the way a browser would (WHATWG URL strips leading C0/space and every tab
  // or newline), so ` JaVa\tScRiPt:` is named for what it is.
  // eslint-disable-next-line no-control-regex -- strips leading C0 characters as a browser does
  const browserScheme = SCHEME.exec(uri.replace(/^[\x00-\x20]+/, '').replace(/[\t\n\r]/g, ''));
  if (browserScheme && DANGEROUS_SCHEMES.has((browserScheme[1] as string).toLowerCase())) {
    return reject('dangerous_scheme');
  }
  if (!URI_CHARACTERS.test(uri)) return reject('invalid_characters');
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return reject('relative');
  try {
    new URL(uri);
  } catch {
    return reject('unparseable');
  }
  if (uri.includes('#')) return reject('fragment');
  const authority = authorityOf(uri);
  if ((scheme === 'http' || scheme === 'https') && !authority) return reject('unparseable');
  if (authority !== null) {
    if (authority.includes('@')) return reject('userinfo');
    if (authority.includes('*')) return reject('wildcard_host');
  }
  if (scheme === 'https') return { ok: true };
  if (scheme === 'http') {
    return LOOPBACK_HOSTS.has(hostOf(authority ?? '')) ? { ok: true } : reject('insecure_http');
  }
  return scheme.includes('.') ? { ok: true } : reject('unsupported_scheme');
}

/**
 * The registered URI that `requested` matches, or null. Matching is byte-identical string
 * comparison with no normalisation, except for loopback: a registered `http://127.0.0.1…`,
 * `http://[::1]…` or `http://localhost…` URI matches a request that differs only in its port
 * (any port or none, RFC 8252 §7.3). The loopback host itself must be byte-identical.
 */
export function matchRedirectUri(requested: string, registered: readonly string[]): string | null {
  for (const candidate of registered) {
    if (candidate === requested || loopbackMatch(requested, candidate)) return candidate;
  }
  return null;
}

/** Why a request's redirect URI could not be settled. */
export type RedirectUriResolutionReason = 'missing_with_several_registered' | 'not_registered';

/**
 * The redirect URI of an authorization request: the registered URI the request names, or the
 * only registered URI when the request names none (OAuth 2.1 §2.3.2).
 */
export function resolveRedirectUri(
  requested: string | undefined,
  registered: readonly string[],
): { ok: true; uri: string } | { ok: false; reason: RedirectUriResolutionReason; description: string } {
  if (requested === undefined) {
    const only = registered.length === 1 ? registered[0] : undefined;
    if (only !== undefined) return { ok: true, uri: only };
    if (registered.length === 0) {
      return { ok: false, reason: 'not_registered', description: 'the client has no registered redirect URI' };
    }
    return {
      ok: false,
      reason: 'missing_with_several_registered',
      description: 'redirect_uri is required when the client has several registered redirect URIs',
    };
  }
  const uri = matchRedirectUri(requested, registered);
  if (uri === null) {
    return { ok: false, reason: 'not_registered', description: 'redirect_uri does not match a registered redirect URI' };
  }
  return { ok: true, uri };
}

function reject(reason: RedirectUriRejectionReason): RedirectUriRejection {
  return { ok: false, reason, description: DESCRIPTIONS[reason] };
}

/** The raw authority of `scheme://authority…`, or null when the URI has none. */
function authorityOf(uri: string): string | null {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  return match ? (match[1] as string) : null;
}

/** The host of a raw authority without userinfo: `[::1]:80` → `[::1]`, `localhost:80` → `localhost`. */
function hostOf(authority: string): string {
  // eslint-disable-next-line security/detect-unsafe-regex -- no nested repetition; the authority is at most the registered URI's length
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(authority);
  return match ? (match[1] as string) : '';
}

// A canonical port: 1–65535, no leading zero.
const PORT = /^:([1-9][0-9]{0,4})(?![0-9])/;

function loopbackMatch(requested: string, registered: string): boolean {
  const prefix = LOOPBACK_PREFIXES.find((p) => registered.startsWith(p) && /^(?:[:/?]|$)/.test(registered.slice(p.length)));
  if (prefix === undefined || !requested.startsWith(prefix)) return false;
  const registeredRest = withoutPort(registered.slice(prefix.length));
  return registeredRest !== null && registeredRest === withoutPort(requested.slice(prefix.length));
}

/** What follows the host with a leading canonical `:port` removed; null for any other `:…`. */
function withoutPort(afterHost: string): string | null {
  if (!afterHost.startsWith(':')) return afterHost;
  const port = PORT.exec(afterHost);
  if (!port || Number(port[1]) > 65535) return null;
  return afterHost.slice(port[0].length);
}
