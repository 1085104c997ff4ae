/** A grant just issued at /token is listed in its client's shard (issue 12), so that disabling the client revokes it; one issued while the client was being disabled is revoked at once. */
import { requestMeta } from '../audit/emit.ts';
import type { Env } from '../env.ts';
import { attachClientGrant } from './client-shards.ts';

/**
 * Lists the grant (`grantOrCode`: a grant id, or a code whose prefix is its grant id) under the client. False when the
 * client was disabled after its check at the start of the request: the grant is then revoked (its tokens never work)
 * and the caller answers invalid_client, as for a disabled client found at the start.
 */
export async function keptForClient(request: Request, env: Env, clientId: string, grantOrCode: string | undefined): Promise<boolean> {
  const grantId = (grantOrCode ?? '').split('.', 1)[0] ?? '';
  if (await attachClientGrant(env, clientId, grantId, Date.now())) return true;
  await env.AUTH_TXN.get(env.AUTH_TXN.idFromName(grantId)).revokeByAdmin(requestMeta(request));
  return false;
}
