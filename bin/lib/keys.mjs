// Generates the server's secrets: the access-token signing key (OAUTH_SIGNING_KEY, a private EC P-256 JWK) and ID_SECRET.
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

/** A new private JWK as a JSON string, with `kid` set to its RFC 7638 thumbprint. */
export async function generateSigningKey() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  return JSON.stringify(jwk);
}

/** A new ID_SECRET: 32 random bytes, base64url. */
export function generateIdSecret() {
  return randomBytes(32).toString('base64url');
}
