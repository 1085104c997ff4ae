// CORS for browser-based MCP clients: every discovery document and the public OAuth endpoints answer a preflight, with the headers the SDK sends.
import { listDurableObjectIds, SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DISCOVERY_PATHS } from '../../src/http/discovery.ts';

const ORIGIN = 'http://localhost:8787';
const BROWSER = 'http://localhost:6274';

function preflight(path: string, method: string): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: 'OPTIONS',
    headers: { origin: BROWSER, 'access-control-request-method': method, 'access-control-request-headers': 'mcp-protocol-version' },
  });
}

const discoveryPaths = Object.values(DISCOVERY_PATHS).flat();

describe('a browser preflight to a discovery document', () => {
  it.each(discoveryPaths)('%s → 204, any origin, GET, mcp-protocol-version allowed, no body', async (path) => {
    const response = await preflight(path, 'GET');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual(expect.arrayContaining(['mcp-protocol-version', 'authorization', 'content-type']));
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(await response.text()).toBe('');
  });

  it.each(discoveryPaths)('%s → the document itself is readable from any origin', async (path) => {
    const response = await SELF.fetch(`${ORIGIN}${path}`, { headers: { origin: BROWSER, 'mcp-protocol-version': '2025-11-25' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('content-type')).toBe('application/json');
  });
});

describe('a browser preflight to the public OAuth endpoints', () => {
  it.each(['/register', '/token', '/revoke'])('%s → 204 allowing POST and mcp-protocol-version, nothing registered', async (path) => {
    const before = (await listDurableObjectIds(env.CLIENTS)).length;
    const response = await preflight(path, 'POST');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual(expect.arrayContaining(['mcp-protocol-version', 'authorization', 'content-type']));
    expect(await response.text()).toBe('');
    expect((await listDurableObjectIds(env.CLIENTS)).length).toBe(before);
  });

  it('a preflight to a path that is not public (the consent form) is still refused', async () => {
    const response = await preflight('/authorize/consent', 'POST');
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
