// The sharded client registry (issue 14): each client, person and address in its own object, the index only for listings, pre-sharding data still served.
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ClientRegistry } from '../../durable/client-registry.ts';
import type { ClientMetadata } from '../../src/auth/client-metadata.ts';
import { FETCHERS, ORIGIN } from '../support/mcp-http.ts';
import { registerClient, tokenRequest } from '../support/oauth-flow.ts';

const shard = (name: string) => env.CLIENTS.get(env.CLIENTS.idFromName(name));

/** The tables a registry object has (none: it never stored anything). */
function tables(name: string): Promise<string[]> {
  return runInDurableObject(shard(name), (_instance: ClientRegistry, state) =>
    state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name").toArray().map((r) => r.name),
  );
}

describe('the client registry is sharded by what each request names', () => {
  it('a registration is stored in the client\'s own object, counted in the address\'s, listed in the index, and not stored in the index', async () => {
    const address = '203.0.113.77';
    const response = await FETCHERS.server(`${ORIGIN}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': address },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Shard client' }),
    });
    expect(response.status).toBe(201);
    const clientId = String(((await response.json()) as { client_id: string }).client_id);

    const own = await shard(`client:${clientId}`).get(clientId, Date.now());
    expect(own).toMatchObject({ clientId, source: 'dcr', hasSecret: false });
    expect(await shard('default').get(clientId, Date.now())).toBeNull();
    const listed = await shard('default').listClients();
    expect(listed.filter((c) => c.client_id === clientId)).toEqual([expect.objectContaining({ client_id: clientId, client_name: 'Shard client', source: 'dcr' })]);
    const counted = await runInDurableObject(shard(`address:${address}`), (_i: ClientRegistry, state) => state.storage.sql.exec<{ count: number }>('SELECT count FROM registrations WHERE address = ?', address).toArray());
    expect(counted).toEqual([{ count: 1 }]);
  });

  it('an unknown client id of the issued shape is refused (401 invalid_client) and leaves its object without storage', async () => {
    const unknown = 'A'.repeat(32);
    const reply = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: unknown });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_client');
    expect(await tables(`client:${unknown}`)).toEqual([]);
  });

  it('a client id no client can have is refused without reaching any registry object', async () => {
    const before = (await listDurableObjectIds(env.CLIENTS)).length;
    const reply = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: 'not a client id' });
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_client');
    expect((await listDurableObjectIds(env.CLIENTS)).length).toBe(before);
  });

  it('a client stored before sharding (in the index object) is still found: its refresh fails on the token, not on the client', async () => {
    const clientId = 'L'.repeat(31) + 'x';
    const metadata = { redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'Older client' } as ClientMetadata;
    await shard('default').storeClient(clientId, metadata, null, Date.now());
    const reply = await tokenRequest(ORIGIN, FETCHERS, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43), client_id: clientId });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('invalid_grant');
    expect(await tables(`client:${clientId}`)).toEqual([]);
  });

  it('a registration flood is limited per address: another address still registers', async () => {
    const address = '203.0.113.78';
    const limited = await runInDurableObject(shard(`address:${address}`), (instance: ClientRegistry) => {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(instance.takeRegistration(address, 2, Date.now()).ok);
      return results;
    });
    expect(limited).toEqual([true, true, false]);
    const other = await registerClient(ORIGIN, FETCHERS);
    expect(other.clientId).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
