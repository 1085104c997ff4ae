/** The canonical form of one served tool definition (RFC 8785 JSON) and its SHA-256 digest. Pure: no I/O. */
import canonicalize from 'canonicalize';

/** The `_meta` key under which tools/list carries a tool's digest and signature. */
export const INTEGRITY_META_KEY = 'io.github.own-mcp-server/integrity';

/** Version of the canonical form; part of what is signed, so a change of rules cannot be replayed. */
export const CANONICAL_VERSION = 1;

/** A tool as one entry of a tools/list result (after JSON serialisation: no `undefined` anywhere). */
export type ToolEntry = { name: string } & Record<string, unknown>;

/** What is digested and signed: the whole served entry (minus our own integrity block) and the tool's required scope. */
export interface CanonicalDefinition {
  v: typeof CANONICAL_VERSION;
  /** The tools/list entry: name, title, description, inputSchema, outputSchema, annotations, execution, icons, `_meta`… */
  tool: ToolEntry;
  /** The scope a caller needs for this tool; null when the tool needs none (the conformance pack). */
  scope: string | null;
}

/**
 * The served entry as it is digested: a JSON round trip (what the wire carries), without the
 * integrity block in `_meta`, and without `_meta` when nothing else is left in it.
 */
export function servedDefinition(entry: ToolEntry): ToolEntry {
  const copy = JSON.parse(JSON.stringify(entry)) as ToolEntry;
  const meta = copy['_meta'];
  if (typeof meta === 'object' && meta !== null && !Array.isArray(meta)) {
    const rest: Record<string, unknown> = { ...(meta as Record<string, unknown>) };
    delete rest[INTEGRITY_META_KEY];
    if (Object.keys(rest).length === 0) delete copy['_meta'];
    else copy['_meta'] = rest;
  }
  return copy;
}

/** The canonical definition of a served entry and its scope. */
export function canonicalDefinition(entry: ToolEntry, scope: string | null): CanonicalDefinition {
  return { v: CANONICAL_VERSION, tool: servedDefinition(entry), scope };
}

/** RFC 8785 (JCS) serialisation as UTF-8 bytes. */
export function canonicalBytes(value: unknown): Uint8Array<ArrayBuffer> {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('the value has no JSON form');
  return new Uint8Array(new TextEncoder().encode(text));
}

/** `sha256:<64 lowercase hex>` of some bytes. */
export async function sha256Digest(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The canonical bytes and digest of a served entry with its scope. */
export async function digestTool(entry: ToolEntry, scope: string | null): Promise<{ bytes: Uint8Array<ArrayBuffer>; digest: string }> {
  const bytes = canonicalBytes(canonicalDefinition(entry, scope));
  return { bytes, digest: await sha256Digest(bytes) };
}
