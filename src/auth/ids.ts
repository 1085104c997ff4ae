/** Unforgeable ids for transactions (grants), sessions and API keys: 128 random bits and a 128-bit HMAC tag, 43 base64url characters. */
import { base64url, fromBase64url, timingSafeEqual } from './encoding.ts';

/** What an id names; the tag covers it, so an id of one kind is not valid as another. */
export type IdKind = 'txn' | 'session' | 'key';

/** The id format: 32 bytes as unpadded base64url. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

async function tag(key: CryptoKey, kind: IdKind, nonce: Uint8Array): Promise<Uint8Array> {
  const data = new Uint8Array([...new TextEncoder().encode(`${kind}:`), ...nonce]);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data)).slice(0, 16);
}

/** A new id from 16 random bytes (passed in) and the tag. */
export async function mintId(key: CryptoKey, kind: IdKind, random: Uint8Array): Promise<string> {
  if (random.length !== 16) throw new Error('mintId needs 16 random bytes');
  const nonce = random.slice();
  // An id never starts with '-' (a command line would read it as an option): the first
  // character comes from the top six bits of the first byte, and 62 is '-'.
  if (((nonce[0] ?? 0) >> 2) === 62) nonce[0] = (nonce[0] ?? 0) ^ 0x80;
  return base64url(new Uint8Array([...nonce, ...(await tag(key, kind, nonce))]));
}

/**
 * True when `id` was minted by this server for `kind`. The router checks this before it
 * addresses a Durable Object, so made-up ids never wake (or create) one.
 */
export async function verifyId(key: CryptoKey, kind: IdKind, id: string): Promise<boolean> {
  if (!ID_PATTERN.test(id)) return false;
  const bytes = fromBase64url(id);
  if (!bytes || bytes.length !== 32) return false;
  const expected = await tag(key, kind, bytes.slice(0, 16));
  return timingSafeEqual(base64url(expected), base64url(bytes.slice(16)));
}

let cached: { secret: string; key: Promise<CryptoKey> } | undefined;

/** Raised when ID_SECRET is missing or too short. */
export class IdSecretError extends Error {
  override readonly name = 'IdSecretError';
}

/** The HMAC key from the ID_SECRET secret (at least 32 bytes, base64url), cached per isolate. */
export function idKey(secret: string | undefined): Promise<CryptoKey> {
  const hit = cached;
  if (hit && secret && hit.secret === secret) return hit.key;
  const raw = secret ? fromBase64url(secret) : null;
  if (!secret || !raw || raw.length < 32) {
    return Promise.reject(new IdSecretError('ID_SECRET must be at least 32 random bytes in base64url (npm run keys prints one)'));
  }
  const key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  cached = { secret, key };
  return key;
}
