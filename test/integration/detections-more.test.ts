// Issue 16: more detections played against the server (workerd), each with a benign look-alike, the trail exported as ECS
// through the admin API and the rule evaluated on it (as test/integration/detections.test.ts does): flagged tool results,
// a burst of failed code exchanges, forged codes, one key guessed from several addresses, guessing followed by a session,
// one key with several user agents, a registration refused by the rate limit. Then the server's own run
// (POST /admin/detections/run) fires each scenario once as detection.fired and no look-alike.
import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { POISONED_CUSTOMER } from '../../src/db/poisoned-rows.ts';
import { evaluate } from '../../src/security/detections/evaluate.ts';
import type { Doc, Hit } from '../../src/security/detections/types.ts';
import { callTool, ORIGIN } from '../support/mcp-http.ts';
import { authorize, pkcePair, registerClient, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';
import { settleDeliveries } from '../support/settle.ts';
import { counter, createKey, initializeWith, session, eventIdsWhere, expectInServer, firedSince, fromAddress, idOf, inServerExpectations, randomPart, ruleSet, runDetectionsNow, trailSince } from '../support/detections.ts';

const started = new Date(Date.now() - 1000).toISOString();
const { exportEcs, hitsOf } = trailSince(started);
/** Closes an address's counting window now, so its auth.failed summary is written. */
const closeWindow = (address: string) => counter(address).close(Date.now() + 3_600_000);

/** The hits of a single-event rule (grouped by event.id), with the event each one is about. */
async function eventHits(title: string): Promise<Array<{ hit: Hit; doc: Doc | undefined }>> {
  const docs = await exportEcs();
  return evaluate(ruleSet, docs)
    .filter((h) => h.ruleId === idOf(title))
    .map((hit) => ({ hit, doc: docs.find((d) => (d['event'] as { id: string }).id === hit.group['event.id']) }));
}
const labelOf = (doc: Doc | undefined, name: string) => (doc?.['labels'] as Record<string, string> | undefined)?.[name];
const ipOf = (doc: Doc | undefined) => (doc?.['source'] as { ip?: string } | undefined)?.ip;

const from = (address: string): FlowFetchers => fromAddress(address);

/** A real authorization code (a new public client, a person signed in upstream) and what its exchange needs. */
async function realCode(address: string, login: string): Promise<{ form: Record<string, string>; verifier: string }> {
  const client = await registerClient(ORIGIN, from(address));
  const { verifier, challenge } = await pkcePair();
  const back = await authorize(ORIGIN, from(address), { clientId: client.clientId, redirectUri: client.redirectUri, challenge, login });
  const code = back.searchParams.get('code') ?? '';
  expect(code).not.toBe('');
  return { form: { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, client_id: client.clientId, resource: `${ORIGIN}/mcp` }, verifier };
}

/** A key with a wrong secret: the key id is real, the secret is not. */
const wrongSecret = (keyId: string) => `Bearer mcpk_${keyId}.${randomPart(43)}`;

/** What the in-server run must fire, and must not fire for the look-alikes. */
const x = inServerExpectations();
const ipIs = (address: string) => (d: Doc) => ipOf(d) === address;

describe('more scenarios against the server, the rule on the ECS export', () => {
  it('a tool result carrying the poisoned tickets fires the result-flagged rule; open tickets of a clean customer do not', async () => {
    const reader = await createKey({ agent_name: 'Poisoned Reader' });
    const poisoned = await session(reader.key);
    const result = await callTool(poisoned, 'list_open_tickets', { customer_id: POISONED_CUSTOMER, limit: 100 }, 500);
    expect(result).toHaveProperty('result');
    const clean = await createKey({ agent_name: 'Clean Reader' });
    const benign = await session(clean.key);
    const answered = (await callTool(benign, 'list_open_tickets', { customer_id: 1, limit: 100 }, 501))['result'] as { isError?: boolean; structuredContent?: { rowCount?: number } };
    expect(answered.isError).not.toBe(true);
    expect(answered.structuredContent?.rowCount).toBeGreaterThan(0);
    const title = 'MCP tool result flagged as possible prompt injection';
    const hits = await eventHits(title);
    const mine = hits.filter((h) => labelOf(h.doc, 'key_id') === reader.key_id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.doc).toMatchObject({ event: { action: 'tool.result_flagged' }, mcp: { tool: 'list_open_tickets' } });
    expect(hits.filter((h) => labelOf(h.doc, 'key_id') === clean.key_id)).toEqual([]);
    x.fired.push([title, 'event.id', String(mine[0]?.hit.group['event.id'])]);
    const lookAlike = await eventIdsWhere(started, (d) => labelOf(d, 'key_id') === clean.key_id);
    expect(lookAlike.length).toBeGreaterThan(0);
    x.quietEvents.push([title, lookAlike]);
  });

  it('five forged authorization codes from one address (a counted summary) fire; two from another address do not', async () => {
    const registered = await SELF.fetch(`${ORIGIN}/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': '192.0.2.90' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
    expect(registered.status).toBe(201);
    const { client_id } = (await registered.json()) as { client_id: string };
    const forge = (address: string) => SELF.fetch(`${ORIGIN}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': address }, body: new URLSearchParams({ grant_type: 'authorization_code', code: randomPart(60), client_id, redirect_uri: 'http://127.0.0.1/cb', code_verifier: randomPart(50) }) });
    for (let i = 0; i < 5; i++) {
      const response = await forge('192.0.2.91');
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
    }
    for (let i = 0; i < 2; i++) expect((await forge('192.0.2.92')).status).toBe(400);
    await closeWindow('192.0.2.91');
    await closeWindow('192.0.2.92');
    const title = 'MCP forged or unknown codes and refresh tokens from one address';
    const hits = await eventHits(title);
    expect(hits.filter((h) => ipOf(h.doc) === '192.0.2.91')).toHaveLength(1);
    expect(hits.filter((h) => ipOf(h.doc) === '192.0.2.92')).toEqual([]);
    x.fired.push([title, 'event.id', String(hits.find((h) => ipOf(h.doc) === '192.0.2.91')?.hit.group['event.id'])]);
    const lookAlike = await eventIdsWhere(started, ipIs('192.0.2.92'));
    expect(lookAlike.length).toBeGreaterThan(0);
    x.quietEvents.push([title, lookAlike]);
  });

  it('five failed exchanges of a real code (wrong PKCE verifiers) from one address fire the code-failure burst; one slip then the right verifier does not', async () => {
    const stolen = await realCode('192.0.2.93', 'det-code-burst');
    for (let i = 0; i < 5; i++) {
      const attempt = await tokenRequest(ORIGIN, from('192.0.2.94'), { ...stolen.form, code_verifier: randomPart(50) });
      expect(attempt.status).toBe(400);
      expect(attempt.body['error']).toBe('invalid_grant');
    }
    const own = await realCode('192.0.2.95', 'det-code-slip');
    expect((await tokenRequest(ORIGIN, from('192.0.2.95'), { ...own.form, code_verifier: randomPart(50) })).status).toBe(400);
    expect((await tokenRequest(ORIGIN, from('192.0.2.95'), { ...own.form, code_verifier: own.verifier })).status).toBe(200);
    const title = 'MCP burst of failed or replayed authorization codes from one address';
    expect(await hitsOf(title, 'source.ip', '192.0.2.94')).toEqual([expect.objectContaining({ count: 5 })]);
    expect(await hitsOf(title, 'source.ip', '192.0.2.95')).toEqual([]);
    x.fired.push([title, 'source.ip', '192.0.2.94']);
    x.quiet.push([title, 'source.ip', '192.0.2.95']);
  });

  it('one key guessed from three addresses fires; a key guessed from two addresses does not', async () => {
    const target = await createKey({ agent_name: 'Guessed' });
    const other = await createKey({ agent_name: 'Mistyped' });
    for (const address of ['192.0.2.101', '192.0.2.102', '192.0.2.103']) expect(await initializeWith(wrongSecret(target.key_id), address)).toBe(401);
    for (const address of ['192.0.2.104', '192.0.2.105']) expect(await initializeWith(wrongSecret(other.key_id), address)).toBe(401);
    for (const address of ['192.0.2.101', '192.0.2.102', '192.0.2.103', '192.0.2.104', '192.0.2.105']) await closeWindow(address);
    const title = 'MCP one API key guessed from several addresses';
    expect(await hitsOf(title, 'labels.key_id', target.key_id)).toEqual([expect.objectContaining({ count: 3 })]);
    expect(await hitsOf(title, 'labels.key_id', other.key_id)).toEqual([]);
    x.fired.push([title, 'labels.key_id', target.key_id]);
    x.quiet.push([title, 'labels.key_id', other.key_id]);
  });

  it('an address that failed with a key and then opened a session with one fires; a session from a clean address does not', async () => {
    const key = await createKey({ agent_name: 'Guessed Then Used' });
    expect(await initializeWith(wrongSecret(key.key_id), '192.0.2.111')).toBe(401);
    await closeWindow('192.0.2.111');
    expect(await initializeWith(`Bearer ${key.key}`, '192.0.2.111')).toBe(200);
    expect(await initializeWith(`Bearer ${key.key}`, '192.0.2.112')).toBe(200);
    const title = 'MCP API key guessing followed by a session from the same address';
    expect(await hitsOf(title, 'source.ip', '192.0.2.111')).toHaveLength(1);
    expect(await hitsOf(title, 'source.ip', '192.0.2.112')).toEqual([]);
    x.fired.push([title, 'source.ip', '192.0.2.111']);
    x.quiet.push([title, 'source.ip', '192.0.2.112']);
  });

  it('one key opening sessions with two user agents fires; a key with one user agent does not', async () => {
    const switching = await createKey({ agent_name: 'Two Clients' });
    const steady = await createKey({ agent_name: 'One Client' });
    expect(await initializeWith(`Bearer ${switching.key}`, '192.0.2.121', 'agent-a/1.0')).toBe(200);
    expect(await initializeWith(`Bearer ${switching.key}`, '192.0.2.121', 'curl/8.0')).toBe(200);
    expect(await initializeWith(`Bearer ${steady.key}`, '192.0.2.122', 'agent-a/1.0')).toBe(200);
    expect(await initializeWith(`Bearer ${steady.key}`, '192.0.2.122', 'agent-a/1.0')).toBe(200);
    const title = 'MCP API key used with several user agents';
    expect(await hitsOf(title, 'labels.key_id', switching.key_id)).toEqual([expect.objectContaining({ count: 2 })]);
    expect(await hitsOf(title, 'labels.key_id', steady.key_id)).toEqual([]);
    x.fired.push([title, 'labels.key_id', switching.key_id]);
    x.quiet.push([title, 'labels.key_id', steady.key_id]);
  });

  it('registrations refused by the per-address limit (a counted summary) fire; twenty registrations at the limit do not', async () => {
    const register = async (address: string) => {
      const response = await SELF.fetch(`${ORIGIN}/register`, { method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': address }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
      await response.body?.cancel();
      return response.status;
    };
    const flooding: number[] = [];
    for (let i = 0; i < 23; i++) flooding.push(await register('192.0.2.96'));
    expect(flooding.filter((s) => s === 429)).toHaveLength(3);
    for (let i = 0; i < 20; i++) expect(await register('192.0.2.97')).toBe(201);
    await closeWindow('192.0.2.96');
    await closeWindow('192.0.2.97');
    const title = 'MCP client registration refused by the rate limit';
    const hits = await eventHits(title);
    const mine = hits.filter((h) => ipOf(h.doc) === '192.0.2.96');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.doc).toMatchObject({ event: { action: 'client.registration_refused' }, mcp: { params: { count: 3 } } });
    expect(hits.filter((h) => ipOf(h.doc) === '192.0.2.97')).toEqual([]);
    x.fired.push([title, 'event.id', String(mine[0]?.hit.group['event.id'])]);
    const lookAlike = await eventIdsWhere(started, ipIs('192.0.2.97'));
    expect(lookAlike).toHaveLength(20);
    x.quietEvents.push([title, lookAlike]);
  });
});

describe('in-server evaluation of these scenarios', () => {
  it('the AuditStore run fires each scenario once as detection.fired, and a second run fires nothing new', async () => {
    // Seven rules played here: flagged result, forged codes, code-failure burst, one key from several addresses, guessing then session, several user agents, registration refused.
    expect(new Set(x.fired.map(([title]) => title)).size).toBe(7);
    await settleDeliveries();
    const run = await runDetectionsNow();
    const fired = await firedSince(started);
    expectInServer(fired, x);
    expect(run.fired.sort()).toEqual(fired.map((e) => e.id).sort());
    const again = await runDetectionsNow();
    expect(again.fired).toEqual([]);
    expect(await firedSince(started)).toHaveLength(fired.length);
  });
});
