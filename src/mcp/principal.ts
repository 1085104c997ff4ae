/** Who is calling: attached by the /mcp gate to every request (from an access token or an API key) and bound to every session. */
import { z } from 'zod';

/** A signed-in person acting through an OAuth client. */
export const UserPrincipalSchema = z.object({
  kind: z.literal('user'),
  /** Our user id (stable hash of the upstream issuer and subject); sessions are bound to it. */
  id: z.string().min(1),
  clientId: z.string().min(1),
  grantId: z.string().min(16),
  tokenId: z.string().min(16),
  scopes: z.array(z.string()),
  upstream: z.object({ issuer: z.string(), subject: z.string() }).optional(),
  email: z.string().optional(),
});

/** An autonomous agent presenting an API key; accountable to the key's owner. */
export const AgentPrincipalSchema = z.object({
  kind: z.literal('agent'),
  /** `key:<key id>`: sessions opened with a key are bound to it (rotation keeps the key id). */
  id: z.string().min(1),
  keyId: z.string().min(16),
  agentId: z.string().min(1),
  agentName: z.string().min(1),
  /** The user the key acts for. */
  owner: z.string().min(1),
  scopes: z.array(z.string()),
});

/** Every kind of caller. */
export const PrincipalSchema = z.discriminatedUnion('kind', [UserPrincipalSchema, AgentPrincipalSchema]);

/** A parsed principal. */
export type Principal = z.infer<typeof PrincipalSchema>;
