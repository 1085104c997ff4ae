/** Who is calling: attached by the /mcp gate to every request from a verified access token, and bound to every session. */
import { z } from 'zod';

/** A signed-in person acting through an OAuth client (API-key agents come next). */
export const PrincipalSchema = z.object({
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

/** A parsed principal. */
export type Principal = z.infer<typeof PrincipalSchema>;
