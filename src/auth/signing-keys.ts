/** The server's JWT signing keys: parsed from the OAUTH_SIGNING_KEY secret (a private EC P-256 JWK), cached per isolate. */
import { importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';

const PrivateJwkSchema = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().min(40),
  y: z.string().min(40),
  d: z.string().min(40),
  kid: z.string().min(8).max(100),
});
const PublicJwkSchema = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), kid: z.string().min(8) });

/** A usable key set: sign with `current`; verify with it or any of `previous` (rotation). */
export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey;
  /** kid → public key, current first. */
  publicKeys: Map<string, CryptoKey>;
  /** The JWKS document published at /jwks.json. */
  jwks: { keys: JWK[] };
}

/** Raised when the signing key secret is missing or malformed; the message says how to fix it. */
export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

let cached: { source: string; keys: Promise<SigningKeys> } | undefined;

/** Parses OAUTH_SIGNING_KEY (and optional OAUTH_PREVIOUS_PUBLIC_KEYS, a JSON array of public JWKs). */
export function signingKeys(current: string | undefined, previous: string | undefined): Promise<SigningKeys> {
  const source = `${current ?? ''}\n${previous ?? ''}`;
  if (cached?.source === source) return cached.keys;
  const keys = load(current, previous);
  cached = { source, keys };
  keys.catch(() => {
    if (cached?.keys === keys) cached = undefined;
  });
  return keys;
}

async function load(current: string | undefined, previous: string | undefined): Promise<SigningKeys> {
  if (!current) throw new SigningKeyError('OAUTH_SIGNING_KEY is not set: run `npm run keys` and store the key as a secret (npm start does this for you locally)');
  let parsed: z.infer<typeof PrivateJwkSchema>;
  try {
    parsed = PrivateJwkSchema.parse(JSON.parse(current));
  } catch {
    throw new SigningKeyError('OAUTH_SIGNING_KEY is not a private EC P-256 JWK with a kid');
  }
  const publicJwk: JWK = { kty: parsed.kty, crv: parsed.crv, x: parsed.x, y: parsed.y, kid: parsed.kid, alg: 'ES256', use: 'sig' };
  const privateKey = await importJWK({ ...parsed, alg: 'ES256' }, 'ES256');
  const publicKey = await importJWK(publicJwk, 'ES256');
  if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new SigningKeyError('OAUTH_SIGNING_KEY is not a private EC P-256 JWK with a kid');
  const publicKeys = new Map<string, CryptoKey>([[parsed.kid, publicKey]]);
  const jwks: JWK[] = [publicJwk];
  if (previous) {
    let list: unknown;
    try {
      list = JSON.parse(previous);
    } catch {
      throw new SigningKeyError('OAUTH_PREVIOUS_PUBLIC_KEYS is not JSON');
    }
    for (const item of z.array(PublicJwkSchema).parse(list)) {
      const jwk: JWK = { kty: item.kty, crv: item.crv, x: item.x, y: item.y, kid: item.kid, alg: 'ES256', use: 'sig' };
      publicKeys.set(item.kid, (await importJWK(jwk, 'ES256')) as CryptoKey);
      jwks.push(jwk);
    }
  }
  return { kid: parsed.kid, privateKey, publicKeys, jwks: { keys: jwks } };
}
