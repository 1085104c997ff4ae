/** OAuth scopes: the MCP tool scopes, parsing and formatting the space-separated `scope` parameter (RFC 6749 §3.3). Pure. */

/** Every scope the server grants; the same strings as the tools' `Scope` in src/mcp/catalog.ts. */
export const SCOPES = ['support:read', 'sql:read'] as const;

/** One scope the server knows. */
export type OAuthScope = (typeof SCOPES)[number];

const KNOWN: ReadonlySet<string> = new Set(SCOPES);

/** True when `value` is a scope the server knows. */
export function isOAuthScope(value: string): value is OAuthScope {
  return KNOWN.has(value);
}

/**
 * Parses a `scope` parameter: tokens separated by spaces (runs of spaces and surrounding spaces
 * are tolerated), duplicates dropped, first-seen order kept. Absent or blank is the empty list.
 * Any unknown token fails the whole value, listing the unknown tokens (deduplicated, in order).
 */
export function parseScope(value: string | undefined): { ok: true; scopes: OAuthScope[] } | { ok: false; unknown: string[] } {
  const tokens = [...new Set((value ?? '').split(' ').filter((t) => t !== ''))];
  const unknown = tokens.filter((t) => !isOAuthScope(t));
  if (unknown.length > 0) return { ok: false, unknown };
  return { ok: true, scopes: tokens.filter(isOAuthScope) };
}

/** The `scope` parameter for a list of scopes: space-separated, duplicates dropped, order kept. */
export function formatScope(scopes: readonly OAuthScope[]): string {
  return [...new Set(scopes)].join(' ');
}

/** True when every requested scope is among the granted ones (the empty request always is). */
export function isSubset(requested: readonly OAuthScope[], granted: readonly OAuthScope[]): boolean {
  return requested.every((scope) => granted.includes(scope));
}
