// The reference Cloudflare stack for remote MCP servers, for `npm run bench -- --reference`: workers-oauth-provider
// in front of an agents McpAgent (one Durable Object per session, /mcp) and the stateless createMcpHandler (/stateless).
// A bench-only build: /authorize approves every request at once (no person, no upstream IdP), like the templates' demo.
import { OAuthProvider } from '@cloudflare/workers-oauth-provider';
import { McpAgent, createMcpHandler } from 'agents/mcp';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer } from '@modelcontextprotocol/server';

/** The same text the server's conformance tool test_simple_text returns. */
const TEXT = 'This is a simple text response for testing.';

/** The stateful reference: one McpAgent Durable Object per MCP session (SDK v1 server, as McpAgent requires). */
export class ReferenceMcp extends McpAgent {
  server = new McpServerV1({ name: 'reference', version: '1.0.0' });

  async init() {
    this.server.registerTool('test_simple_text', { description: 'Returns simple text.' }, async () => ({ content: [{ type: 'text', text: TEXT }] }));
  }
}

/** The stateless reference: a fresh SDK v2 server per request, no Durable Object. */
const stateless = createMcpHandler(
  () => {
    const server = new McpServer({ name: 'reference-stateless', version: '1.0.0' });
    server.registerTool('test_simple_text', { description: 'Returns simple text.' }, async () => ({ content: [{ type: 'text', text: TEXT }] }));
    return server;
  },
  { route: '/stateless' },
);

/** Approves every authorization request for one fixed user (bench only). */
const approve = {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/authorize') return new Response('not found', { status: 404 });
    const auth = await env.OAUTH_PROVIDER.parseAuthRequest(request);
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({ request: auth, userId: 'bench-user', metadata: {}, scope: auth.scope, props: { user: 'bench-user' } });
    return new Response(null, { status: 302, headers: { location: redirectTo } });
  },
};

/** The provider wants its resource URL up front; the port is known only when a request arrives. */
const options = (origin) => ({
  resourceMetadata: { resource: origin, authorization_servers: [origin] },
  apiHandlers: { '/mcp': ReferenceMcp.serve('/mcp', { binding: 'MCP_OBJECT' }), '/stateless': { fetch: (request, env, ctx) => stateless(request, env, ctx) } },
  defaultHandler: approve,
  authorizeEndpoint: '/authorize',
  tokenEndpoint: '/token',
  clientRegistrationEndpoint: '/register',
  accessTokenTTL: 86400,
});

let provider;
export default {
  fetch(request, env, ctx) {
    provider ??= new OAuthProvider(options(new URL(request.url).origin));
    return provider.fetch(request, env, ctx);
  },
};
