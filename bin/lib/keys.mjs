// Generates the server's access-token signing key: a private EC P-256 JWK with a kid (the OAUTH_SIGNING_KEY secret).
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

/** A new private JWK as a JSON string, with `kid` set to its RFC 7638 thumbprint. */
export async function generateSigningKey() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  return JSON.stringify(jwk);
}
