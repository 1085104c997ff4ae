// Fuzzing the authorization server (issue 9): /register metadata, /authorize queries, /token and /revoke forms. A fixed-seed slice here; `npm run fuzz` runs 10,000 inputs per edge.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, it } from 'vitest';
import { authorizeInput, authorizeProbe, formProbe, registerInput, registerProbe, tokenForm, type OAuthSetup } from '../fuzz/edges-oauth.ts';
import { CONTEXT, ORIGIN, runEdge, TEST_TIMEOUT } from '../fuzz/workers-context.ts';
import { FETCHERS } from '../support/mcp-http.ts';
import { registerClient } from '../support/oauth-flow.ts';

let setup: OAuthSetup;

beforeAll(async () => {
  const client = await registerClient(ORIGIN, FETCHERS);
  setup = { clientId: client.clientId, redirectUri: client.redirectUri, upstreamOrigin: new URL(env.UPSTREAM_ISSUER ?? 'http://127.0.0.1:1').origin };
}, 60_000);

describe('fuzz: authorization server', () => {
  it('/register: 201 or a typed RFC 7591 error; a refusal registers nothing', async () => {
    await runEdge('register', registerInput, registerProbe(CONTEXT));
  }, TEST_TIMEOUT);

  it('/authorize: a page or a redirect upstream only, no link to an unregistered URI; a refusal stores nothing', async () => {
    await runEdge('authorize', authorizeInput(setup, ORIGIN), authorizeProbe(CONTEXT, setup));
  }, TEST_TIMEOUT);

  it('/token: typed RFC 6749 errors, nothing issued, nothing stored', async () => {
    await runEdge('token', tokenForm(setup, ORIGIN, false), formProbe(CONTEXT, '/token'));
  }, TEST_TIMEOUT);

  it('/revoke: 200 or typed RFC 6749 errors, nothing stored', async () => {
    await runEdge('revoke', tokenForm(setup, ORIGIN, true), formProbe(CONTEXT, '/revoke'));
  }, TEST_TIMEOUT);
});
