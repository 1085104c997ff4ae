/** Recording failed credentials and refused registrations as bounded summaries (issue 16): one FailureCounter object per address. */
import { decodeProtectedHeader } from 'jose';
import { loadConfig } from '../config.ts';
import type { FailureKind } from '../contracts/failure-counter.ts';
import type { Env } from '../env.ts';
import type { RequestMeta } from './emit.ts';
import { sanitizeReason } from './redact.ts';

/** A `kid` in the usual shape (a thumbprint, a name) is a public identifier and kept as is; anything else goes through the reason redaction. */
const KID = /^[A-Za-z0-9._-]{1,64}$/;

/** What is safe to note about a presented bearer token: its JWT header's `kid` and `alg`, when it has one. */
export function tokenHints(token: string): { kid?: string; alg?: string } {
  try {
    const header = decodeProtectedHeader(token);
    return {
      ...(typeof header.kid === 'string' ? { kid: KID.test(header.kid) ? header.kid : sanitizeReason(header.kid.slice(0, 100)) } : {}),
      ...(typeof header.alg === 'string' ? { alg: sanitizeReason(header.alg.slice(0, 20)) } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * Counts one failure for the caller's address (awaited: it is one RPC and no storage write on
 * most calls). Never throws into the caller's path: the refusal is answered whatever happens here.
 */
export async function noteFailure(env: Env, kind: FailureKind, meta: RequestMeta | undefined, detail: { keyId?: string | undefined; kid?: string | undefined; alg?: string | undefined; reason?: string | undefined } = {}): Promise<void> {
  const config = loadConfig(env);
  if (!config.AUDIT_ENABLED || !env.FAILURE_COUNTER) return;
  const address = meta?.ip ?? 'unknown';
  try {
    const stub = env.FAILURE_COUNTER.get(env.FAILURE_COUNTER.idFromName(address));
    await stub.note({ kind, ...detail, meta, now: Date.now(), windowMs: config.FAILURE_AUDIT_WINDOW_SECONDS * 1000 });
  } catch (error) {
    console.error(JSON.stringify({ event: 'failure_note_failed', kind, error: String(error) }));
  }
}
