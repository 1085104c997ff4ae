// The message union: every kind a client may POST is classified once, bad params are named, and each error surface has one wire form.
import { describe, expect, it } from 'vitest';
import { adminError, gateError, rpcError, toolFailureResult } from '../../../src/errors.ts';
import { classify, McpMessageSchema, requestIdOf } from '../../../src/mcp/message.ts';

const INIT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } };

function message(value: unknown) {
  const classified = classify(value);
  if (!classified.ok) throw new Error(`refused: ${classified.reason}`);
  // What the session receives over RPC must parse with the same schema.
  expect(McpMessageSchema.safeParse(classified.message).success).toBe(true);
  return classified.message;
}

describe('classify', () => {
  it('initialize, with its params parsed', () => {
    expect(message({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT })).toMatchObject({ kind: 'initialize', id: 0, params: INIT });
  });
  it('tools/call with name and arguments (arguments default to {})', () => {
    expect(message({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'get_customer', arguments: { customer_id: 1 } } })).toMatchObject({ kind: 'tool_call', id: 'a', name: 'get_customer', arguments: { customer_id: 1 } });
    expect(message({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_tables' } })).toMatchObject({ kind: 'tool_call', arguments: {} });
  });
  it('other requests, notifications and responses', () => {
    expect(message({ jsonrpc: '2.0', id: 3, method: 'ping' })).toMatchObject({ kind: 'request', id: 3, method: 'ping' });
    expect(message({ jsonrpc: '2.0', id: 4, method: 'no/such/method', params: { x: 1 } })).toMatchObject({ kind: 'request', method: 'no/such/method', params: { x: 1 } });
    expect(message({ jsonrpc: '2.0', method: 'notifications/initialized' })).toMatchObject({ kind: 'notification', method: 'notifications/initialized' });
    expect(message({ jsonrpc: '2.0', id: 5, result: {} })).toMatchObject({ kind: 'response', id: 5 });
    expect(message({ jsonrpc: '2.0', id: 6, error: { code: -1, message: 'no' } })).toMatchObject({ kind: 'response', id: 6 });
  });
  it('the original message travels unchanged as raw', () => {
    const raw = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x', arguments: {}, _meta: { progressToken: 'p' } } };
    expect(message(raw)).toMatchObject({ raw });
  });
  it('bad params of a known method are invalid_params naming the parameter', () => {
    expect(message({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'x', arguments: [1] } })).toEqual({ kind: 'invalid_params', id: 8, method: 'tools/call', param: 'arguments', detail: 'must be an object', params: { name: 'x', arguments: [1] } });
    // The params of a refused tools/call go along for its audit event; other methods' do not.
    expect(message({ jsonrpc: '2.0', id: 10, method: 'tools/list', params: { cursor: 5 } })).not.toHaveProperty('params');
    expect(message({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 7 } })).toMatchObject({ kind: 'invalid_params', param: 'name', detail: 'must be a string' });
    expect(message({ jsonrpc: '2.0', id: 10, method: 'tools/list', params: { cursor: 5 } })).toMatchObject({ kind: 'invalid_params', param: 'cursor', detail: 'must be a string' });
    expect(message({ jsonrpc: '2.0', id: 11, method: 'logging/setLevel', params: { level: 'loud' } })).toMatchObject({ kind: 'invalid_params', param: 'level', detail: expect.stringContaining('one of debug, info') });
    expect(message({ jsonrpc: '2.0', id: 12, method: 'initialize', params: { protocolVersion: 1 } })).toMatchObject({ kind: 'invalid_params', method: 'initialize' });
  });
  it('batches and non-JSON-RPC values are refused with their reason', () => {
    expect(classify([{ jsonrpc: '2.0', id: 1, method: 'ping' }])).toEqual({ ok: false, reason: 'batch_not_supported' });
    expect(classify({ hello: 'world' })).toEqual({ ok: false, reason: 'invalid_request' });
    expect(classify(null)).toEqual({ ok: false, reason: 'invalid_request' });
  });
  it('requestIdOf: requests (and refused requests) have ids; notifications and responses do not', () => {
    expect(requestIdOf(message({ jsonrpc: '2.0', id: 'r', method: 'ping' }))).toBe('r');
    expect(requestIdOf(message({ jsonrpc: '2.0', id: 8, method: 'tools/list', params: { cursor: 5 } }))).toBe(8);
    expect(requestIdOf(message({ jsonrpc: '2.0', method: 'notifications/initialized' }))).toBeUndefined();
    expect(requestIdOf(message({ jsonrpc: '2.0', id: 5, result: {} }))).toBeUndefined();
    expect(requestIdOf(undefined)).toBeUndefined();
  });
});

describe('one wire form per surface', () => {
  it('gate errors: status, JSON-RPC body with id null and the reason', async () => {
    const deep = gateError('nesting_too_deep', 'limit 64');
    expect(deep.status).toBe(400);
    expect(await deep.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: JSON nested deeper than 64 levels (limit 64)', data: { reason: 'nesting_too_deep' } } });
    const busy = gateError('request_id_in_use');
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ id: null, error: { code: -32600, data: { reason: 'request_id_in_use' } } });
    expect(gateError('host_invalid').status).toBe(400);
  });
  it('JSON-RPC errors inside a session carry the request id', async () => {
    const response = rpcError('invalid_params', 4, 'cursor must be a string', { param: 'cursor' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32602, message: 'Invalid params: cursor must be a string', data: { reason: 'invalid_params', param: 'cursor' } } });
    expect(await rpcError('unknown_tool', 'x', 'nope').json()).toMatchObject({ id: 'x', error: { code: -32602, message: 'Invalid params: unknown tool: nope' } });
  });
  it('tool failures: an isError result whose text starts with the code', () => {
    expect(toolFailureResult({ code: 'not_found', message: 'no customer with that id' })).toEqual({ isError: true, content: [{ type: 'text', text: 'not_found: no customer with that id' }] });
  });
  it('admin errors: {error, error_description}, never cached, a challenge on 401', async () => {
    const response = adminError('unauthorized', 'a valid admin credential is required');
    expect(response.status).toBe(401);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="admin"');
    expect(await response.json()).toEqual({ error: 'unauthorized', error_description: 'a valid admin credential is required' });
    expect(adminError('invalid_request', 'x').headers.get('www-authenticate')).toBeNull();
  });
});
