// DSSE envelopes (the in-toto signing format) with Ed25519 keys from Node's crypto: PAE encoding, signing and verification.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';

/** The payload type of an in-toto Statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * The DSSE v1 pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * lengths in bytes as ASCII decimal. What is signed is this, never the bare payload.
 * @param {string} payloadType
 * @param {Buffer} payload
 */
export function pae(payloadType, payload) {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'utf8'), type, Buffer.from(` ${payload.length} `, 'utf8'), payload]);
}

/** The key id: the SHA-256 of the public key's SubjectPublicKeyInfo (DER), hex. */
export function keyId(publicKey) {
  const key = publicKey instanceof KeyObject && publicKey.type === 'public' ? publicKey : createPublicKey(publicKey);
  const der = key.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** A fresh Ed25519 key pair as PEM (PKCS#8 private, SPKI public): for throw-away keys in tests and CI. */
export function generateSigningKeyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * Signs a payload into a DSSE envelope with an Ed25519 private key (PEM).
 * @param {{ payloadType: string, payload: Buffer, privateKeyPem: string }} input
 */
export function signEnvelope({ payloadType, payload, privateKeyPem }) {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the release signing key must be Ed25519, not ${key.asymmetricKeyType}`);
  const sig = sign(null, pae(payloadType, payload), key);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: keyId(createPublicKey(key)), sig: sig.toString('base64') }] };
}

/**
 * Verifies a DSSE envelope against one Ed25519 public key (PEM). Returns the payload when a
 * signature by that key verifies over PAE(payloadType, payload); otherwise the reason.
 * @param {unknown} envelope
 * @param {string} publicKeyPem
 * @returns {{ ok: true, payload: Buffer, payloadType: string } | { ok: false, reason: string }}
 */
export function verifyEnvelope(envelope, publicKeyPem) {
  if (!envelope || typeof envelope !== 'object') return { ok: false, reason: 'the envelope is not a JSON object' };
  const { payloadType, payload, signatures } = /** @type {Record<string, unknown>} */ (envelope);
  if (typeof payloadType !== 'string' || typeof payload !== 'string' || !Array.isArray(signatures) || signatures.length === 0) return { ok: false, reason: 'the envelope lacks payloadType, payload or signatures' };
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return { ok: false, reason: 'the public key is not a PEM public key' };
  }
  if (key.asymmetricKeyType !== 'ed25519') return { ok: false, reason: `the public key must be Ed25519, not ${key.asymmetricKeyType}` };
  const body = Buffer.from(payload, 'base64');
  if (body.toString('base64') !== payload) return { ok: false, reason: 'the payload is not canonical base64' };
  const message = pae(payloadType, body);
  const id = keyId(key);
  for (const s of signatures) {
    if (!s || typeof s.sig !== 'string') continue;
    if (typeof s.keyid === 'string' && s.keyid !== '' && s.keyid !== id) continue;
    if (verify(null, message, key, Buffer.from(s.sig, 'base64'))) return { ok: true, payload: body, payloadType };
  }
  return { ok: false, reason: `no signature verifies with the release public key (key id ${id.slice(0, 16)}…)` };
}
