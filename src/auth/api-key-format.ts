/** API key format: `mcpk_<key id>.<secret>`; the key id (HMAC-tagged) names the key's Durable Object. Pure. */

/** The recognisable prefix of every key (secret scanners can match it). */
export const API_KEY_PREFIX = 'mcpk_';

const FORMAT = /^mcpk_([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** The parts of a presented key, or null when it is not in the key format. */
export function parseApiKey(value: string): { keyId: string; secret: string } | null {
  const match = FORMAT.exec(value);
  return match?.[1] && match[2] ? { keyId: match[1], secret: match[2] } : null;
}

/** A key as shown to its owner, once. */
export function formatApiKey(keyId: string, secret: string): string {
  return `${API_KEY_PREFIX}${keyId}.${secret}`;
}
