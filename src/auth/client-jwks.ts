/** The public keys an administrator registers for a private_key_jwt client (RFC 7517 JWK Set): EC P-256 or RSA ≥ 2048 bits, each with a kid. Pure. */
import { z } from 'zod';
import { fromBase64url } from './encoding.ts';

/** The signature algorithms a client assertion may use (never `none`, never HMAC). */
export const ASSERTION_ALGS = ['ES256', 'RS256', 'PS256'] as const;

/** One accepted assertion algorithm. */
export type AssertionAlg = (typeof ASSERTION_ALGS)[number];

/** The most keys one client may register. */
export const MAX_CLIENT_KEYS = 5;

/** The smallest RSA modulus accepted, in bits. */
export const MIN_RSA_BITS = 2048;

/** The largest RSA modulus accepted, in bits. */
export const MAX_RSA_BITS = 8192;

/** JWK members that carry private (or symmetric) key material; any of them refuses the key. */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const KID = /^[\x21-\x7E]{1,100}$/;

/** A stored client key: only the public members we use, nothing else is kept. */
export const ClientJwkSchema = z.discriminatedUnion('kty', [
  z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256').optional() }),
  z.object({ kty: z.literal('RSA'), n: z.string(), e: z.string(), kid: z.string(), alg: z.enum(['RS256', 'PS256']).optional() }),
]);

/** A client's public key. */
export type ClientJwk = z.infer<typeof ClientJwkSchema>;

/** A refused key set: `field` names the member (`jwks.keys.1.d`), `description` says why. */
export type JwksRejection = { ok: false; field: string; description: string };

/** True when a key of this type can verify `alg` (and the key does not pin another alg). */
export function keyFits(key: ClientJwk, alg: AssertionAlg): boolean {
  const family = alg === 'ES256' ? 'EC' : 'RSA';
  return key.kty === family && (key.alg === undefined || key.alg === alg);
}

/**
 * Parses `{ keys: [...] }`: 1 to MAX_CLIENT_KEYS public keys, each with a unique kid; private
 * key material anywhere is refused (never stored, never echoed); unknown members are dropped.
 */
export function parseClientJwks(value: unknown): { ok: true; keys: ClientJwk[] } | JwksRejection {
  if (!isObject(value)) return refuse('jwks', 'must be an object with a keys array');
  const list = value.keys;
  if (!Array.isArray(list)) return refuse('jwks.keys', 'must be an array of public JWKs');
  if (list.length === 0) return refuse('jwks.keys', 'must hold at least one key');
  if (list.length > MAX_CLIENT_KEYS) return refuse('jwks.keys', `must hold at most ${MAX_CLIENT_KEYS} keys`);
  const keys: ClientJwk[] = [];
  for (const [index, entry] of (list as unknown[]).entries()) {
    const key = parseKey(entry, `jwks.keys.${index}`);
    if (!key.ok) return key;
    if (keys.some((k) => k.kid === key.key.kid)) return refuse(`jwks.keys.${index}.kid`, 'is used by another key');
    keys.push(key.key);
  }
  return { ok: true, keys };
}

function parseKey(entry: unknown, at: string): { ok: true; key: ClientJwk } | JwksRejection {
  if (!isObject(entry)) return refuse(at, 'must be a JWK object');
  // Checked first, whatever else is wrong: a private key must never be accepted or kept.
  const privateMember = PRIVATE_MEMBERS.find((m) => m in entry);
  if (privateMember !== undefined) return refuse(`${at}.${privateMember}`, 'private key material is refused: register public keys only');
  const { kty, kid, alg, use } = entry;
  if (typeof kid !== 'string' || !KID.test(kid)) return refuse(`${at}.kid`, 'is required: 1 to 100 printable ASCII characters');
  if (use !== undefined && use !== 'sig') return refuse(`${at}.use`, "must be 'sig' when present");
  if (kty === 'EC') {
    if (entry.crv !== 'P-256') return refuse(`${at}.crv`, 'unsupported curve: only P-256');
    if (alg !== undefined && alg !== 'ES256') return refuse(`${at}.alg`, 'unsupported alg for an EC key: only ES256');
    for (const coordinate of ['x', 'y'] as const) {
      const raw = entry[coordinate];
      if (typeof raw !== 'string' || fromBase64url(raw)?.length !== 32) return refuse(`${at}.${coordinate}`, 'must be 32 bytes in base64url');
    }
    return { ok: true, key: { kty: 'EC', crv: 'P-256', x: entry.x as string, y: entry.y as string, kid, ...(alg === 'ES256' ? { alg } : {}) } };
  }
  if (kty === 'RSA') {
    if (alg !== undefined && alg !== 'RS256' && alg !== 'PS256') return refuse(`${at}.alg`, 'unsupported alg for an RSA key: RS256 or PS256');
    const n = typeof entry.n === 'string' ? fromBase64url(entry.n) : null;
    if (!n) return refuse(`${at}.n`, 'must be the modulus in base64url');
    const bits = modulusBits(n);
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) return refuse(`${at}.n`, `the modulus must have ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits (has ${bits})`);
    const e = typeof entry.e === 'string' ? fromBase64url(entry.e) : null;
    if (!e || e.length === 0 || e.length > 8) return refuse(`${at}.e`, 'must be the public exponent in base64url');
    return { ok: true, key: { kty: 'RSA', n: entry.n as string, e: entry.e as string, kid, ...(alg === 'RS256' || alg === 'PS256' ? { alg } : {}) } };
  }
  return refuse(`${at}.kty`, "unsupported key type: 'EC' (P-256) or 'RSA'");
}

/** The bit length of a big-endian unsigned integer. */
function modulusBits(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  const first = bytes[i];
  if (first === undefined) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(first));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(field: string, description: string): JwksRejection {
  return { ok: false, field, description };
}
