// vetted-servers.lock.json: the whole-definition digest (RFC 8785, SHA-256) of every tool of every vetted server, pinned on first use.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { canonicalBytes, sha256Digest } from '../../src/security/integrity/canonical.ts';

const PinnedToolSchema = z.strictObject({
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** The definition as it was pinned, so a later run can say which fields changed. */
  definition: z.looseObject({ name: z.string() }),
});

const VettedServerSchema = z.strictObject({
  server: z.object({ name: z.string(), version: z.string() }).nullable(),
  pinnedAt: z.string(),
  tools: z.record(z.string(), PinnedToolSchema),
});

/** The vetted-servers lock file. */
export const VetLockSchema = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  servers: z.record(z.string(), VettedServerSchema),
});

/** Raised when the lock file cannot be used; `vet` exits 2. */
export class VetLockError extends Error {
  name = 'VetLockError';
}

/** The whole-definition digest of a third-party tool: every member it sent, nothing removed. */
export async function definitionDigest(definition) {
  return sha256Digest(canonicalBytes(definition));
}

/** Reads the lock (an empty one when the file does not exist yet). @param {string} file */
export function readVetLock(file) {
  if (!existsSync(file)) return { version: 1, servers: {} };
  let raw;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VetLockError(`${file} is not JSON: ${error.message}`);
  }
  const parsed = VetLockSchema.safeParse(raw);
  if (!parsed.success) throw new VetLockError(`${file} is not a vetted-servers lock: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Writes the lock (servers and tools sorted, two-space JSON). @param {string} file @param {z.infer<typeof VetLockSchema>} lock */
export function writeVetLock(file, lock) {
  const servers = {};
  for (const url of Object.keys(lock.servers).sort()) {
    const entry = lock.servers[url];
    const tools = {};
    for (const name of Object.keys(entry.tools).sort()) tools[name] = entry.tools[name];
    servers[url] = { ...entry, tools };
  }
  const out = { $comment: 'Written by `npm run vet`: tool definitions of third-party MCP servers, pinned on first use. Review changes before accepting them (--accept).', version: 1, servers };
  writeFileSync(file, `${JSON.stringify(VetLockSchema.parse(out), null, 2)}\n`);
}
