// Session, grant and key ids: HMAC-tagged, bound to their kind, never starting with '-'.
import { describe, expect, it } from 'vitest';
import { ID_PATTERN, mintId, verifyId } from '../../../src/auth/ids.ts';

const key = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(7), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
const other = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(8), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

describe('mintId / verifyId', () => {
  it('an id verifies for its kind only, and only under its key', async () => {
    const id = await mintId(key, 'session', crypto.getRandomValues(new Uint8Array(16)));
    expect(id).toMatch(ID_PATTERN);
    expect(await verifyId(key, 'session', id)).toBe(true);
    expect(await verifyId(key, 'txn', id)).toBe(false);
    expect(await verifyId(key, 'key', id)).toBe(false);
    expect(await verifyId(other, 'session', id)).toBe(false);
  });

  it('a changed character, a made-up id or a wrong length does not verify', async () => {
    const id = await mintId(key, 'txn', crypto.getRandomValues(new Uint8Array(16)));
    const flipped = `${id.slice(0, 20)}${id[20] === 'A' ? 'B' : 'A'}${id.slice(21)}`;
    expect(await verifyId(key, 'txn', flipped)).toBe(false);
    expect(await verifyId(key, 'txn', 'A'.repeat(43))).toBe(false);
    expect(await verifyId(key, 'txn', id.slice(0, 42))).toBe(false);
    expect(await verifyId(key, 'txn', `${id}A`)).toBe(false);
  });

  it('never starts with "-", whatever the first random byte, and stays verifiable', async () => {
    for (let b = 0; b < 256; b++) {
      const random = new Uint8Array(16);
      random[0] = b;
      const id = await mintId(key, 'key', random);
      expect(id.startsWith('-')).toBe(false);
      expect(await verifyId(key, 'key', id)).toBe(true);
    }
  });

  it('1,000 ids are distinct', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) ids.add(await mintId(key, 'session', crypto.getRandomValues(new Uint8Array(16))));
    expect(ids.size).toBe(1000);
  });
});
