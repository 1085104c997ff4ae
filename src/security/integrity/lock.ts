/** The tool lock (tools.lock.json): per tool its canonical definition, digest and detached signature, plus the public keys. Pure. */
import { z } from 'zod';
import { CANONICAL_VERSION, INTEGRITY_META_KEY } from './canonical.ts';
import { TOOL_SIGNATURE_ALG } from './signature.ts';

/** A public Ed25519 key of the JWKS (no private member may ever appear here). */
export const ToolPublicJwkSchema = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().min(8).max(100),
  alg: z.literal(TOOL_SIGNATURE_ALG),
  use: z.literal('sig'),
});

/** Where a tool comes from: the catalog (always served) or the conformance pack (ENABLE_CONFORMANCE_PACK). */
export const ToolPackSchema = z.enum(['catalog', 'conformance']);

/** One locked tool. */
export const LockedToolSchema = z.strictObject({
  pack: ToolPackSchema,
  scope: z.string().nullable(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** Detached compact JWS over the canonical bytes: `<header>..<signature>`. */
  jws: z.string().regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/),
  /** The served tools/list entry that was signed (for review, and to say which fields changed). */
  definition: z.looseObject({ name: z.string() }),
});

/** The whole lock file. */
export const ToolLockSchema = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  canonical: z.strictObject({ version: z.literal(CANONICAL_VERSION), serialization: z.literal('RFC8785'), digest: z.literal('SHA-256') }),
  metaKey: z.literal(INTEGRITY_META_KEY),
  jwks: z.strictObject({ keys: z.array(ToolPublicJwkSchema).min(1) }),
  tools: z.record(z.string(), LockedToolSchema),
});

/** A parsed lock. */
export type ToolLock = z.infer<typeof ToolLockSchema>;
/** A parsed locked tool. */
export type LockedTool = z.infer<typeof LockedToolSchema>;
/** A tool's pack. */
export type ToolPack = z.infer<typeof ToolPackSchema>;
