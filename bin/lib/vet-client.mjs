// Connects to a third-party MCP server over streamable HTTP with the SDK client and lists every tool (all pages), exactly as sent.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';

// Loose on purpose: the digest covers every member the server sends, including ones this SDK does not know.
const ToolsPageSchema = z.looseObject({
  tools: z.array(z.looseObject({ name: z.string() })),
  nextCursor: z.string().optional(),
});

const MAX_PAGES = 1000;

/** Raised when the server cannot be reached or does not speak MCP; `vet` exits 3. */
export class ConnectError extends Error {
  name = 'ConnectError';
}

/**
 * Lists the tools of the MCP server at `url`.
 * @param {string} url
 * @param {{ headers: Record<string, string>, timeoutMs: number, progress: (line: string) => void }} options
 * @returns {Promise<{ server: { name: string, version: string } | null, tools: Array<{ name: string } & Record<string, unknown>>, pages: number }>}
 */
export async function listRemoteTools(url, options) {
  const client = new Client({ name: 'own-mcp-server-vet', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: options.headers } });
  const timeout = { timeout: options.timeoutMs };
  try {
    options.progress(`connecting to ${url}`);
    await client.connect(transport, timeout);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new ConnectError(`cannot connect to ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const info = client.getServerVersion();
    if (!client.getServerCapabilities()?.tools) options.progress('the server does not declare the tools capability; asking for tools/list anyway');
    const tools = [];
    let cursor;
    let pages = 0;
    do {
      const page = await client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } }, ToolsPageSchema, timeout);
      pages++;
      // JSON round trip: what the wire carried, nothing the parser added.
      tools.push(...JSON.parse(JSON.stringify(page.tools)));
      options.progress(`page ${pages}: ${page.tools.length} tools`);
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages < MAX_PAGES);
    if (cursor !== undefined) throw new ConnectError(`more than ${MAX_PAGES} pages of tools: refusing to go on`);
    return { server: info ? { name: info.name, version: info.version } : null, tools, pages };
  } catch (error) {
    if (error instanceof ConnectError) throw error;
    throw new ConnectError(`tools/list failed on ${url}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.close().catch(() => undefined);
  }
}
