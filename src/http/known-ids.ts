/**
 * Session and key ids already verified in this isolate: an id's HMAC tag is a pure function of
 * ID_SECRET, so an id that verified once under a key verifies again; a repeated id skips the
 * HMAC. Bounded; only ids that verified are kept, each with the key it verified under.
 */
import { idKey, verifyId, type IdKind } from '../auth/ids.ts';

const MAX = 8192;
const known = new Map<string, CryptoKey>();

/** True when `id` was minted by this server for `kind` (src/auth/ids.ts), remembered per isolate. */
export async function knownId(secret: string | undefined, kind: IdKind, id: string): Promise<boolean> {
  const key = await idKey(secret);
  const name = `${kind}:${id}`;
  if (known.get(name) === key) return true;
  const valid = await verifyId(key, kind, id);
  if (valid) {
    if (known.size >= MAX) {
      const oldest = known.keys().next();
      if (!oldest.done) known.delete(oldest.value);
    }
    known.set(name, key);
  }
  return valid;
}
