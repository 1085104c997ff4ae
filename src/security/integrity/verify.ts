/** Checks served tool definitions against the lock: digest, then signature. Pure: no I/O, crypto only. */
import { canonicalDefinition, digestTool, INTEGRITY_META_KEY, type ToolEntry } from './canonical.ts';
import { jsonChanges, type Change } from './diff.ts';
import type { ToolLock } from './lock.ts';
import { verifyDetached, type SignatureProblem } from './signature.ts';

/** A tool as the server serves it, with the scope it requires. */
export interface ServedTool {
  entry: ToolEntry;
  scope: string | null;
}

/** What tools/list carries in `_meta[INTEGRITY_META_KEY]` for a verified tool. */
export interface IntegrityMeta {
  /** Version of the canonical form (see canonical.ts). */
  v: 1;
  /** The scope that is part of the signed form. */
  scope: string | null;
  digest: string;
  /** Detached compact JWS over the canonical bytes; keys at /.well-known/mcp-tools-jwks.json. */
  jws: string;
  kid: string;
}

/** Why a served tool failed its check. */
export type IntegrityProblem = 'lock_invalid' | 'not_in_lock' | 'digest_mismatch' | SignatureProblem;

/** A tool that must not be served, and why. */
export interface IntegrityFailure {
  tool: string;
  problem: IntegrityProblem;
  /** The digest the lock expects (null when the tool is not in it). */
  expected: string | null;
  /** The digest of what the server would serve. */
  actual: string;
  /** Which members of the canonical definition differ from the locked one. */
  changed: Change[];
  /** One readable sentence. */
  message: string;
}

/** The outcome of checking every served tool. */
export interface IntegrityVerdict {
  /** Verified tools with the `_meta` block they are served with. */
  passed: Map<string, IntegrityMeta>;
  failed: IntegrityFailure[];
}

/** Checks each served tool: it must be in the lock, digest to the locked digest, and carry a valid signature. */
export async function verifyTools(served: readonly ServedTool[], lock: ToolLock): Promise<IntegrityVerdict> {
  const passed = new Map<string, IntegrityMeta>();
  const failed: IntegrityFailure[] = [];
  for (const { entry, scope } of served) {
    const { bytes, digest } = await digestTool(entry, scope);
    const locked = lock.tools[entry.name];
    if (!locked) {
      failed.push({ tool: entry.name, problem: 'not_in_lock', expected: null, actual: digest, changed: [], message: `${entry.name}: not in the tool lock (a new tool must be signed: npm run tools -- sign)` });
      continue;
    }
    if (locked.digest !== digest) {
      const changed = jsonChanges(canonicalDefinition(locked.definition, locked.scope), canonicalDefinition(entry, scope));
      const fields = changed.map((c) => `${c.path} ${c.change}`).join(', ') || 'the canonical form';
      failed.push({ tool: entry.name, problem: 'digest_mismatch', expected: locked.digest, actual: digest, changed, message: `${entry.name}: definition differs from the signed one (${fields}); expected ${locked.digest}, got ${digest}` });
      continue;
    }
    const signature = await verifyDetached(locked.jws, bytes, lock.jwks.keys);
    if (!signature.ok) {
      failed.push({ tool: entry.name, problem: signature.problem, expected: locked.digest, actual: digest, changed: [], message: `${entry.name}: the lock's signature does not verify (${signature.problem.replace('_', ' ')})` });
      continue;
    }
    passed.set(entry.name, { v: 1, scope, digest, jws: locked.jws, kid: signature.kid });
  }
  return { passed, failed };
}

/** The `_meta` of a verified tool: what it already had, plus the integrity block. */
export function withIntegrityMeta(meta: Record<string, unknown> | undefined, integrity: IntegrityMeta): Record<string, unknown> {
  return { ...(meta ?? {}), [INTEGRITY_META_KEY]: integrity };
}
