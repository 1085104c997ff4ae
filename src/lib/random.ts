/** Fresh randomness for callers that may use it (HTTP handlers, Durable Objects); the pure layers take random bytes as an argument instead. */
import { base64url } from '../auth/encoding.ts';

/** `n` bytes from the platform's CSPRNG. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A random secret or identifier as unpadded base64url: 32 bytes (256 bits) unless said otherwise. */
export function randomToken(bytes = 32): string {
  return base64url(randomBytes(bytes));
}
