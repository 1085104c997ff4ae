/** GET /.well-known/mcp-tools-jwks.json: the public keys of the tool-definition signatures, for clients to pin. */
import { toolsJwks } from '../mcp/tool-lock.ts';

/** The JWKS of tools.lock.json; public, cacheable, readable from any origin. */
export function handleToolsJwks(): Response {
  return Response.json(toolsJwks(), {
    headers: { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' },
  });
}
