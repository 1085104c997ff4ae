/** Applies a tool-integrity verdict to a new McpServer: unverified tools are removed, verified ones carry their digest and signature in `_meta`. */
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/server';
import { withIntegrityMeta, type IntegrityVerdict } from '../security/integrity/verify.ts';

/** A verdict to enforce, or `'unchecked'` for the reference server that the verdict itself is computed from. */
export type IntegrityGate = IntegrityVerdict | 'unchecked';

/** Records the handle of every tool registered on `server` from now on (call before registering anything). */
export function captureTools(server: McpServer): Map<string, RegisteredTool> {
  const handles = new Map<string, RegisteredTool>();
  const register = server.registerTool.bind(server) as (...args: unknown[]) => RegisteredTool;
  server.registerTool = ((...args: unknown[]) => {
    const handle = register(...args);
    handles.set(String(args[0]), handle);
    return handle;
  });
  return handles;
}

/** Serves only verified tools (removed tools answer tools/call with "not found"), each with its integrity `_meta`. */
export function enforceIntegrity(handles: ReadonlyMap<string, RegisteredTool>, gate: IntegrityGate): void {
  if (gate === 'unchecked') return;
  for (const [name, handle] of handles) {
    const meta = gate.passed.get(name);
    if (meta) handle.update({ _meta: withIntegrityMeta(handle._meta, meta) });
    else handle.remove();
  }
}
