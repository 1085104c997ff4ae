/** The fixed redaction policy for audit events: secrets and sensitive fields removed, long values cut. Pure. */

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** The fixed limits of rules (c), (d), (e), (h) and of `sanitizeReason`. */
export const REDACTION_LIMITS = Object.freeze({ string: 256, array: 20, depth: 4, keys: 50, reason: 500 });

const SENSITIVE_WORDS = 'pass(?:word)?|passwd|secret|token|api[_-]?key|authorization|auth|cookie|credential|private|code_verifier|client_assertion|refresh|session';

/** Rule (a): key names whose values are always redacted. */
export const SENSITIVE_KEY = new RegExp(SENSITIVE_WORDS, 'i');

/** The configurable part of the policy: extra field names (lower-cased) redacted like rule (a). */
export type RedactionPolicy = { readonly sensitiveFields: ReadonlySet<string> };

/** A policy whose sensitive fields are `sensitiveFields` (trimmed, case-insensitive, empty names ignored). */
export function policyFrom(sensitiveFields: readonly string[]): RedactionPolicy {
  const names = new Set<string>();
  for (const name of sensitiveFields) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) names.add(trimmed);
  }
  return Object.freeze({ sensitiveFields: names });
}

/** The fixed rules with no configured sensitive fields. */
export const DEFAULT_POLICY: RedactionPolicy = policyFrom([]);

// Names are bounded (40 characters around the word) and texts are cut to SCAN_CHARS first, so the work stays small.
const PEM = /-----BEGIN [A-Z0-9 ]{1,60}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,60}-----|$)/g;
const BEARER = /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi;
const API_KEY = /mcpk_[A-Za-z0-9._-]*/g;
// eslint-disable-next-line security/detect-unsafe-regex -- every repetition is a bounded character class; texts are cut to SCAN_CHARS first
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
const URL_PASSWORD = /(\b[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s:/@]{0,200}:)[^\s/@]+@/g;
const HEADER = /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)([ \t]*:)(?![ \t]*\[REDACTED\])[ \t]*[^\s][^\r\n]*/gi;
// A value: "JSON string" | \"escaped JSON string\" | 'quoted' | [scheme] bare | an unclosed quote to the end of the line.
const VALUE = String.raw`(?:"(?:[^"\\\r\n]|\\.)*"|\\"(?:(?!\\")[^\r\n])*\\"|'[^'\r\n]*'|(?:(?:Basic|Bearer|Digest|Token)\s+)?[^\s"'&,;)}\]]+|\\?["'][^\r\n]*)`;
const NAME = String.raw`[A-Za-z0-9_.-]{0,40}?(?:${SENSITIVE_WORDS})[A-Za-z0-9_.-]{0,40}`;
// eslint-disable-next-line security/detect-non-literal-regexp -- built once from the constant word list above, never from input
const ASSIGNED = new RegExp(String.raw`(\b${NAME}[ \t]*=[ \t]*)(?!\[REDACTED\]|["']\[REDACTED\]["'])(${VALUE})`, 'gi');
// eslint-disable-next-line security/detect-non-literal-regexp -- built once from the constant word list above, never from input
const QUOTED = new RegExp(String.raw`(\\?["']${NAME}\\?["'][ \t]*:[ \t]*)(?!\[REDACTED\]|\\?["']\[REDACTED\]\\?["'])(${VALUE})`, 'gi');
const LONG_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

/**
 * True for a long run that is plain words, not a secret: split on `+ / _ -`, every piece is all
 * letters, all digits, or at most 4 characters, and the letters are mostly one case (at most a
 * quarter upper-case, as in camelCase, or nearly all upper-case). Random tokens, UUIDs and hex
 * digests mix letters and digits in long pieces and fail this test.
 */
function isPlainRun(run: string): boolean {
  const body = run.replace(/=+$/, '');
  for (const piece of body.split(/[+/_-]/)) {
    if (piece.length <= 4 || /^[A-Za-z]+$/.test(piece) || /^[0-9]+$/.test(piece)) continue;
    return false;
  }
  const letters = body.replace(/[^A-Za-z]/g, '');
  if (letters.length === 0) return true;
  const upper = letters.replace(/[^A-Z]/g, '').length / letters.length;
  return upper <= 0.25 || upper >= 0.9;
}

/** Keeps a quoted value's quotes around the marker, so JSON text stays readable. */
function redactValue(value: string): string {
  const quote = /^(\\?["'])/.exec(value)?.[1];
  return quote ? `${quote}${REDACTED}${quote}` : REDACTED;
}

/** One pass of rule (b) over a text. */
function redactOnce(text: string): string {
  return text
    .replace(PEM, REDACTED)
    .replace(HEADER, (_m, name: string, colon: string) => `${name}${colon} ${REDACTED}`)
    .replace(BEARER, REDACTED)
    .replace(API_KEY, REDACTED)
    .replace(JWT, REDACTED)
    .replace(URL_PASSWORD, (_m, head: string) => `${head}${REDACTED}@`)
    .replace(ASSIGNED, (_m, head: string, value: string) => `${head}${redactValue(value)}`)
    .replace(QUOTED, (_m, head: string, value: string) => `${head}${redactValue(value)}`)
    .replace(LONG_RUN, (run) => (isPlainRun(run) ? run : REDACTED));
}

/** Rule (b) to a fixed point (a replacement never uncovers a new secret after the second pass). */
function redactText(text: string): string {
  let current = text;
  for (let i = 0; i < 3; i++) {
    const next = redactOnce(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** The first `max` characters, not splitting a surrogate pair. */
function head(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Only this much of a long text is scanned: far more than is kept, and a bound on the work. */
const SCAN_CHARS = 8192;

/**
 * Rule (b); then a text longer than `max` keeps `keep` characters and gains `mark(dropped)`. The
 * cut text is redacted again, because a cut can change how a run looks (shorter, another case ratio).
 */
function redactAndCut(text: string, max: number, keep: number, mark: (dropped: number) => string): string {
  const scanned = text.length > SCAN_CHARS ? head(text, SCAN_CHARS) : text;
  const redacted = redactText(scanned);
  const unscanned = text.length - scanned.length;
  if (redacted.length <= max && unscanned === 0) return redacted;
  let kept = head(redacted, keep);
  // Never leave half a marker (`[REDAC`): cut before it instead.
  const open = kept.lastIndexOf('[');
  if (open >= 0 && kept.length - open < REDACTED.length && redacted.startsWith(REDACTED, open)) kept = kept.slice(0, open);
  return `${redactText(kept)}${mark(redacted.length - kept.length + unscanned)}`;
}

/** Rules (b) and (c) for one string. */
function sanitizeString(text: string): string {
  return redactAndCut(text, REDACTION_LIMITS.string, REDACTION_LIMITS.string, (dropped) => `…[+${dropped} chars]`);
}

/** True for `{…}` literals and `Object.create(null)`, not for class instances. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** True when rule (a) or the configured fields cover `key`. */
function isSensitiveKey(key: string, policy: RedactionPolicy): boolean {
  return SENSITIVE_KEY.test(key) || policy.sensitiveFields.has(key.toLowerCase());
}

/** Rules (a)–(h) for one value at nesting `level` (the params object is level 1). */
function sanitizeValue(value: unknown, level: number, policy: RedactionPolicy): unknown {
  switch (typeof value) {
    case 'string':
      return sanitizeString(value);
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return sanitizeString(value.toString());
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      return '[unsupported]';
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '[unsupported]' : value.toISOString();
  if (!Array.isArray(value) && !isPlainObject(value)) return '[unsupported]';
  if (level > REDACTION_LIMITS.depth) return '[depth limit]';
  if (Array.isArray(value)) {
    const items: unknown[] = value.slice(0, REDACTION_LIMITS.array).map((item) => sanitizeValue(item, level + 1, policy) ?? null);
    if (value.length > REDACTION_LIMITS.array) items.push(`[+${value.length - REDACTION_LIMITS.array} items]`);
    return items;
  }
  return sanitizeObject(value, level, policy);
}

/** Rules (a), (b) on keys, and (h) for one plain object. */
function sanitizeObject(value: Record<string, unknown>, level: number, policy: RedactionPolicy): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys.slice(0, REDACTION_LIMITS.keys)) {
    const item = value[key];
    let name = sanitizeString(key);
    for (let n = 2; Object.hasOwn(out, name); n++) name = `${sanitizeString(key)}#${n}`;
    const clean = isSensitiveKey(key, policy) ? REDACTED : sanitizeValue(item, level + 1, policy);
    // defineProperty: a `__proto__` key stays a plain property.
    if (clean !== undefined) Object.defineProperty(out, name, { value: clean, enumerable: true, writable: true, configurable: true });
  }
  if (keys.length > REDACTION_LIMITS.keys) out['…'] = `[+${keys.length - REDACTION_LIMITS.keys} keys]`;
  return out;
}

/**
 * Tool or request parameters made safe to store and export. `undefined` (no parameters) stays
 * `undefined`. The fixed policy, in order (docs/audit.md keeps the same list):
 *
 * (a) A key whose name matches `SENSITIVE_KEY`, or equals (case-insensitively) one of the
 *     configured sensitive fields (`AUDIT_SENSITIVE_FIELDS`), has its value, whatever it is,
 *     replaced by `[REDACTED]`. The pattern is unanchored, so `db_password`, `X-Auth-Token` and
 *     `session_id` match, and so do some harmless names (`author`, `max_tokens`): over-redaction
 *     is the safe side.
 * (b) Credential-looking text is replaced by `[REDACTED]` wherever it appears: in any string
 *     value, in free text inside a value, and in object keys. Credential-looking means: an
 *     `mcpk_` API key; a JWT or JWE (dot-separated base64url segments starting `eyJ`);
 *     `Bearer <token>`; a PEM block (`-----BEGIN …`, to its END line or the end of the text);
 *     the password of a URL (`scheme://user:password@`); the value of a sensitive name written
 *     as `name=value`, `"name": value` or an `Authorization:`/`Cookie:`/`X-Api-Key:` header
 *     line; and a run of 32 or more base64/base64url/hex characters that is not plain words
 *     (see `isPlainRun`: UUIDs and hashes count as credentials).
 * (c) A string longer than 256 characters keeps its first 256 and gains `…[+N chars]`, N being
 *     the number of characters dropped (counted after (b)).
 * (d) An array longer than 20 items keeps its first 20 and gains one item `[+N items]`.
 * (e) An object or array nested deeper than 4 levels (the params object is level 1) becomes
 *     `[depth limit]`.
 * (f) Numbers, booleans and null pass through; bigints become strings; a Date becomes its ISO
 *     text; `undefined` keys are dropped (array slots become null, as in JSON); anything else
 *     (functions, symbols, Maps, byte arrays, class instances) becomes `[unsupported]`.
 * (g) Params that are not a plain object become `{ value: … }`, sanitised by the same rules.
 * (h) An object with more than 50 keys keeps its first 50 and gains the key `…` with the value
 *     `[+N keys]`.
 */
export function sanitizeParams(params: unknown, policy: RedactionPolicy): Record<string, unknown> | undefined {
  if (params === undefined) return undefined;
  if (isPlainObject(params)) return sanitizeObject(params, 1, policy);
  return sanitizeObject({ value: params }, 1, policy);
}

/** A short explanation made safe to store: credential-looking text redacted, cut to 500 characters (with `…`). */
export function sanitizeReason(text: string): string {
  return redactAndCut(text, REDACTION_LIMITS.reason, REDACTION_LIMITS.reason - 1, () => '…');
}

/** True if any string inside `value` (keys included) looks like a credential by rule (b). For tests and assertions. */
export function containsSecretLike(value: unknown): boolean {
  const seen = new WeakSet<object>();
  const visit = (item: unknown): boolean => {
    if (typeof item === 'string') return redactText(item) !== item;
    if (typeof item !== 'object' || item === null) return false;
    if (seen.has(item)) return false;
    seen.add(item);
    if (Array.isArray(item)) return item.some(visit);
    return Object.entries(item).some(([key, inner]) => visit(key) || visit(inner));
  };
  return visit(value);
}
