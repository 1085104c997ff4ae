// Fuzzing the /mcp gate (issue 9): bodies and headers in and out of a session. A fixed-seed slice here; `npm run fuzz` runs 10,000 inputs per edge.
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { deepBody, mcpBody, mcpBodyProbe, mcpHeaderArbitrary, mcpHeaderProbe, type BodyInput, type McpSetup } from '../fuzz/edges-mcp.ts';
import { CONTEXT, runEdge, TEST_TIMEOUT } from '../fuzz/workers-context.ts';
import { openSession, signedIn } from '../support/mcp-http.ts';

let setup: McpSetup;

beforeAll(async () => {
  const user = await signedIn();
  const { sessionId } = await openSession();
  setup = { authorization: `Bearer ${user.accessToken}`, sessionId };
}, 60_000);

/** The inputs issue 9 reported, pinned so every run (and every seed) tries them. */
const REPORTED: BodyInput[] = [
  { inSession: true, body: deepBody(10_000, 'arguments') },
  { inSession: true, body: deepBody(10_000, '_meta') },
  { inSession: true, body: JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'list_tables', arguments: [] } }) },
  { inSession: true, body: JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 42, arguments: {} } }) },
  { inSession: true, body: JSON.stringify({ jsonrpc: '2.0', id: 13, method: 'tools/list', params: { cursor: 5 } }) },
  { inSession: true, body: JSON.stringify({ jsonrpc: '2.0', id: 14, method: 'logging/setLevel', params: { level: 'loud' } }) },
  { inSession: true, body: JSON.stringify({ jsonrpc: '2.0', id: 15, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }) },
];

describe('fuzz: /mcp', () => {
  it('bodies: never a 5xx or a leak, typed JSON-RPC errors, -32602 for bad tools/call params, no session from a refusal', async () => {
    await runEdge('mcp-body', fc.record({ inSession: fc.boolean(), body: mcpBody }), mcpBodyProbe(CONTEXT, setup), REPORTED);
  }, TEST_TIMEOUT);

  it('methods and headers: typed gate refusals, Bearer challenge on 401, no session from a refusal', async () => {
    await runEdge('mcp-headers', mcpHeaderArbitrary(setup, CONTEXT.origin), mcpHeaderProbe(CONTEXT));
  }, TEST_TIMEOUT);
});
