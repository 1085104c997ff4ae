// Issue 13: one /mcp serves both eras, so server/discover and the 2026-07-28 version error name every version it serves, and each one it names works.
import { listDurableObjectIds } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signIn } from '../support/oauth-flow.ts';
import { FETCHERS, messages, modernEnvelope, ORIGIN, post } from '../support/mcp-http.ts';
import { bearer } from '../support/gate-assertions.ts';

const MODERN = '2026-07-28';
/** What this endpoint serves, newest first: 2026-07-28 statelessly, the 2025 era through initialize. */
const SERVED = [MODERN, '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'];

const envelope = (version: string) => modernEnvelope('vitest-discover', version);

const sessions = async () => (await listDurableObjectIds(env.MCP_SESSION)).length;

describe('server/discover on a dual-era endpoint', () => {
  it('lists every version the endpoint serves, 2026-07-28 first, beside the capabilities and the server identity; no session is opened', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'discover-list' });
    const before = await sessions();
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: envelope(MODERN) } }, { ...bearer(user.accessToken), 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    const [reply] = await messages(response);
    const result = reply?.result as { supportedVersions?: string[]; capabilities?: Record<string, unknown>; _meta?: Record<string, unknown>; resultType?: string } | undefined;
    expect(reply?.id).toBe(1);
    expect(result?.supportedVersions).toEqual(SERVED);
    expect(result?.resultType).toBe('complete');
    expect(result?.capabilities).toMatchObject({ tools: { listChanged: false }, logging: {} });
    expect(result?._meta?.['io.modelcontextprotocol/serverInfo']).toEqual({ name: 'own-mcp-server', version: '0.1.0' });
    expect(await sessions()).toBe(before);
  });

  it.each(SERVED.filter((v) => v !== MODERN))('%s, listed, opens a session through initialize that answers in that version', async (version) => {
    const user = await signIn(ORIGIN, FETCHERS, { login: `discover-${version}` });
    const before = await sessions();
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'vitest-discover', version: '1' } } };
    const response = await post(init, bearer(user.accessToken));
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ id: 0, result: { protocolVersion: version, serverInfo: { name: 'own-mcp-server' } } });
    expect(await sessions()).toBe(before + 1);
  });

  it('the 2026-07-28 error for a version it does not serve (-32022, HTTP 400) names the same list and the version asked for', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'discover-unsupported' });
    const response = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: envelope('2099-01-01') } }, { ...bearer(user.accessToken), 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' });
    expect(response.status).toBe(400);
    const [reply] = await messages(response);
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -32022, data: { supported: SERVED, requested: '2099-01-01' } } });
  });

  it('a request with no envelope and an unknown MCP-Protocol-Version header is refused at the gate, naming the same list', async () => {
    const user = await signIn(ORIGIN, FETCHERS, { login: 'discover-gate' });
    const before = await sessions();
    const response = await post({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} }, { ...bearer(user.accessToken), 'mcp-protocol-version': '2099-01-01' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(`supported: ${SERVED.join(', ')}`);
    expect(await sessions()).toBe(before);
  });
});
