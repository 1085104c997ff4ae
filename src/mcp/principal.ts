/** Who is calling: attached by the /mcp gate to every request and bound to every session. */
import { z } from 'zod';

/** The caller's identity. Authentication (OAuth, API keys) will add kinds; today every caller is anonymous. */
export const PrincipalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('anonymous'), id: z.literal('anonymous') }),
]);

/** A parsed principal. */
export type Principal = z.infer<typeof PrincipalSchema>;

/** The principal of a server without authentication configured. */
export const ANONYMOUS: Principal = { kind: 'anonymous', id: 'anonymous' };
