// A small third-party MCP server for the `vet` tests: the SDK's McpServer over streamable HTTP on 127.0.0.1 (random port), whose tools the test can swap.
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/**
 * Starts a stateless MCP server. `tools` is a list of `{ name, description, inputSchema (zod shape) }`;
 * `setTools` replaces them for the next requests (a rug pull); `pageSize` splits tools/list into pages.
 * With `bearer`, requests without `Authorization: Bearer <bearer>` get 401.
 * @param {{ name: string, tools: Array<{ name: string, description: string, inputSchema?: Record<string, unknown> }>, bearer?: string, pageSize?: number }} options
 */
export async function startThirdPartyServer(options) {
  let tools = options.tools;
  const build = () => {
    const server = new McpServer({ name: options.name, version: '1.0.0' }, { capabilities: { tools: {} } });
    for (const tool of tools) {
      server.registerTool(tool.name, { description: tool.description, inputSchema: tool.inputSchema ?? {} }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
    }
    if (options.pageSize) paginate(server, options.pageSize);
    return server;
  };
  const httpServer = http.createServer(async (req, res) => {
    if (options.bearer && req.headers.authorization !== `Bearer ${options.bearer}`) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"unauthorized"}');
      return;
    }
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = /** @type {import('node:net').AddressInfo} */ (httpServer.address());
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    /** Replaces the tools served from the next request on. */
    setTools(next) {
      tools = next;
    },
    close: () => new Promise((resolve) => httpServer.close(() => resolve(undefined))),
  };
}

/** Wraps tools/list so it answers `size` tools per page with a numeric cursor. */
function paginate(server, size) {
  const handlers = server.server._requestHandlers;
  const list = handlers.get('tools/list');
  handlers.set('tools/list', async (request, extra) => {
    const all = (await list(request, extra)).tools;
    const start = Number(request.params?.cursor ?? 0);
    const next = start + size;
    return { tools: all.slice(start, next), ...(next < all.length ? { nextCursor: String(next) } : {}) };
  });
}
