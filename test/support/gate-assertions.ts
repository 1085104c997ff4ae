// Shared checks of /mcp refusals and a helper to open a session with a given bearer credential (Workers-runtime tests).
import { expect } from 'vitest';
import { INITIALIZE, post } from './mcp-http.ts';

/** The Authorization header for a bearer credential (access token or API key). */
export function bearer(credential: string): Record<string, string> {
  return { authorization: `Bearer ${credential}` };
}

/** The auth-params of a `Bearer k="v", …` challenge. */
export function challenge(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  const params: Record<string, string> = {};
  for (const match of (header ?? '').slice('Bearer '.length).matchAll(/([a-z_]+)="([^"]*)"/g)) params[match[1] as string] = match[2] as string;
  return params;
}

/** A 401/403 from the gate: JSON-RPC error body, never cached, no session id, no rate headers. Returns the challenge params. */
export async function expectBearerRefusal(response: Response, status: 401 | 403, reason: 'unauthorized' | 'invalid_token' | 'insufficient_scope'): Promise<Record<string, string>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('mcp-session-id')).toBeNull();
  expect(response.headers.get('ratelimit')).toBeNull();
  expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: status === 403 ? -32003 : -32001, data: { reason } } });
  const params = challenge(response.headers.get('www-authenticate'));
  expect(params.resource_metadata).toBe('http://localhost:8787/.well-known/oauth-protected-resource/mcp');
  return params;
}

/** Opens an MCP session with this bearer credential and acknowledges initialization. */
export async function openSessionAs(credential: string): Promise<{ sessionId: string; headers: Record<string, string> }> {
  const response = await post(INITIALIZE, bearer(credential));
  expect(response.status).toBe(200);
  const sessionId = response.headers.get('mcp-session-id');
  await response.text();
  if (!sessionId) throw new Error('no session id');
  const headers = { ...bearer(credential), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  const ack = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
  expect(ack.status).toBe(202);
  await ack.text();
  return { sessionId, headers };
}
