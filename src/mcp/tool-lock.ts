/** The tool lock bundled with the Worker (tools.lock.json, written by `npm run tools -- sign`) and the JWKS it publishes. */
import lockJson from '../../tools.lock.json' with { type: 'json' };
import { ToolLockSchema, type ToolLock } from '../security/integrity/lock.ts';

let parsed: ToolLock | Error | undefined;

/** The bundled lock, parsed once per isolate; an Error when it does not parse (then no tool is served). */
export function bundledLock(): ToolLock | Error {
  if (parsed) return parsed;
  const result = ToolLockSchema.safeParse(lockJson);
  parsed = result.success ? result.data : new Error(`tools.lock.json does not parse: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed;
}

/** The public keys of the tool signatures (served at /.well-known/mcp-tools-jwks.json); empty when the lock is unusable. */
export function toolsJwks(): { keys: ToolLock['jwks']['keys'] } {
  const lock = bundledLock();
  return lock instanceof Error ? { keys: [] } : lock.jwks;
}
