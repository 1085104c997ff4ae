/** Detached compact JWS (RFC 7515 appendix F) over a canonical tool definition: Ed25519 through jose. Pure: no I/O. */
import { base64url, CompactSign, compactVerify, importJWK, type CryptoKey, type JWK } from 'jose';

/** The JWS algorithm: Ed25519 (`EdDSA`, the identifier every jose release and most clients know). */
export const TOOL_SIGNATURE_ALG = 'EdDSA';

/** The JWS `typ` of a tool signature, so it can never be mistaken for (or replayed as) another kind of token. */
export const TOOL_SIGNATURE_TYP = 'mcp-tool+jcs';

/** A public Ed25519 JWK as published in the JWKS. */
export interface ToolPublicJwk extends JWK {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
}

/** Signs the canonical bytes; returns `<protected header>..<signature>` (the payload is left out). */
export async function signDetached(payload: Uint8Array, privateKey: CryptoKey, kid: string): Promise<string> {
  const jws = await new CompactSign(payload).setProtectedHeader({ alg: TOOL_SIGNATURE_ALG, kid, typ: TOOL_SIGNATURE_TYP }).sign(privateKey);
  const [header, , signature] = jws.split('.');
  return `${header}..${signature}`;
}

/** Why a detached signature did not verify. */
export type SignatureProblem = 'malformed' | 'unknown_key' | 'bad_signature' | 'wrong_header';

/** Checks a detached JWS against the canonical bytes with the keys of a JWKS (by `kid`). */
export async function verifyDetached(jws: string, payload: Uint8Array, keys: readonly ToolPublicJwk[]): Promise<{ ok: true; kid: string } | { ok: false; problem: SignatureProblem }> {
  const parts = jws.split('.');
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) return { ok: false, problem: 'malformed' };
  let header: { alg?: unknown; kid?: unknown; typ?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(base64url.decode(parts[0]))) as typeof header;
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (header.alg !== TOOL_SIGNATURE_ALG || header.typ !== TOOL_SIGNATURE_TYP || typeof header.kid !== 'string') return { ok: false, problem: 'wrong_header' };
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) return { ok: false, problem: 'unknown_key' };
  try {
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, TOOL_SIGNATURE_ALG);
    await compactVerify(`${parts[0]}.${base64url.encode(payload)}.${parts[2]}`, key, { algorithms: [TOOL_SIGNATURE_ALG] });
    return { ok: true, kid: header.kid };
  } catch {
    return { ok: false, problem: 'bad_signature' };
  }
}

