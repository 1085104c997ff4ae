/** CORS for the endpoints that browser-based MCP clients call without credentials: discovery, /register, /token, /revoke. */

/** Request headers a browser client may send: the MCP SDK adds mcp-protocol-version to discovery and OAuth requests. */
export const PUBLIC_ALLOWED_HEADERS = 'authorization, content-type, mcp-protocol-version';

/** The answer to a CORS preflight for a public endpoint that takes `methods`. */
export function publicPreflight(methods: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': methods,
      'access-control-allow-headers': PUBLIC_ALLOWED_HEADERS,
      'access-control-max-age': '600',
    },
  });
}
