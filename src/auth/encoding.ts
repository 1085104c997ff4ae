/** Byte encodings for the authorization server: base64url, SHA-256 digests, constant-time comparison. Pure. */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url (RFC 4648 §5) of some bytes. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The bytes of an unpadded base64url string, or null when it is not one: padding, the `+`/`/`
 * alphabet, white space, an impossible length, or non-zero spare bits (each byte string has
 * exactly one accepted spelling).
 */
export function fromBase64url(s: string): Uint8Array | null {
  if (!BASE64URL.test(s) || s.length % 4 === 1) return null;
  const padded = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return base64url(bytes) === s ? bytes : null;
}

/** base64url(SHA-256(UTF-8 of `text`)). */
export async function sha256Base64url(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}

/**
 * Compares two strings' UTF-8 bytes without stopping at the first difference or at a length
 * mismatch: the time depends only on the longer input's length, never on where they differ.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
