/** Fuzz edges of the authorization server: /register metadata, /authorize queries, /token and /revoke forms. */
import fc from 'fast-check';
import { exchange, headerSafe, unchanged, type FuzzContext } from './context.ts';
import { authorizeShape, oauthShape } from './invariants.ts';
import type { Probe, Violation } from './runner.ts';

/** A registered public client (made by the test before fuzzing). */
export interface OAuthSetup {
  clientId: string;
  redirectUri: string;
  /** The upstream OpenID provider's origin (the only place /authorize may redirect to). */
  upstreamOrigin: string;
}

const short = fc.string({ maxLength: 40 });
const anyJson = fc.jsonValue({ maxDepth: 3 });
const uri = fc.oneof(
  fc.constantFrom('http://127.0.0.1:9/callback', 'https://app.example/cb', 'http://localhost/cb', 'javascript:alert(1)', 'data:text/html,x', 'https://app.example/cb#frag', 'https://user:pw@app.example/cb', 'http://[::1]:9/cb', 'https://*.example/cb', 'custom.scheme:/cb', 'file:///etc/passwd', '//evil.example/cb', 'https://app.example/cb?x=1', 'http://app.example/cb', ''),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  short,
);

/** RFC 7591 metadata, each field sometimes well-formed, sometimes wrong in type or value. */
export const registrationMetadata = fc.record(
  {
    redirect_uris: fc.oneof(fc.array(uri, { maxLength: 4 }), anyJson),
    token_endpoint_auth_method: fc.oneof(fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', ''), anyJson),
    grant_types: fc.oneof(fc.subarray(['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password', 'urn:ietf:params:oauth:grant-type:device_code']), anyJson),
    response_types: fc.oneof(fc.subarray(['code', 'token', 'id_token']), anyJson),
    client_name: fc.oneof(short, fc.string({ minLength: 200, maxLength: 3000 }), anyJson),
    client_uri: fc.oneof(uri, anyJson),
    logo_uri: fc.oneof(uri, anyJson),
    scope: fc.oneof(fc.constantFrom('support:read', 'support:read sql:read', 'openid', 'admin'), short, anyJson),
    contacts: fc.oneof(fc.array(short, { maxLength: 3 }), anyJson),
    jwks: fc.oneof(fc.constant({ keys: [] }), fc.record({ keys: fc.array(fc.dictionary(short, anyJson, { maxKeys: 4 }), { maxLength: 2 }) }), anyJson),
    jwks_uri: fc.oneof(uri, anyJson),
    software_statement: fc.oneof(short, anyJson),
    client_id: fc.oneof(short, uri),
    client_secret: short,
    extra: anyJson,
  },
  { requiredKeys: [] },
);

/** A public client's metadata that /register accepts. */
const VALID_METADATA = { redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], client_name: 'Fuzz client' };

/** The input of /register: a body (usually metadata as JSON) and its content type. */
export interface RegisterInput {
  contentType: string;
  body: string;
  address: number;
}

export const registerInput: fc.Arbitrary<RegisterInput> = fc.record({
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', '') }),
  body: fc.oneof(
    { weight: 3, arbitrary: registrationMetadata.map((m) => JSON.stringify(m)) },
    // A valid public client's metadata with a few fields changed (so some registrations succeed and the rest fail late).
    { weight: 3, arbitrary: fc.tuple(registrationMetadata, fc.nat()).map(([m, n]) => JSON.stringify({ ...VALID_METADATA, ...Object.fromEntries(Object.entries(m).slice(0, n % 3)) })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  ),
  address: fc.integer({ min: 1, max: 65_000 }),
});

/** Edge `register`: 201 or a typed RFC 7591 error; a refusal registers nothing. */
export function registerProbe(ctx: FuzzContext): Probe<RegisterInput> {
  return async ({ contentType, body, address }) => {
    const before = await ctx.snapshot(['clients']);
    // A different documentation address per input keeps the per-address limit out of the way (a 429 is still checked for shape).
    const headers = { 'content-type': contentType, 'cf-connecting-ip': `2001:db8::${address.toString(16)}` };
    const result = await exchange(ctx, new Request(`${ctx.origin}/register`, { method: 'POST', headers, body }), body);
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...oauthShape(result.seen, [201]));
    out.push(...unchanged(before, await ctx.snapshot(['clients']), { clients: result.seen.status === 201 ? 1 : 0 }));
    return out;
  };
}

/** The input of /authorize: its query parameters in order (repeats allowed). */
export type AuthorizeInput = Array<[string, string]>;

export function authorizeInput(setup: OAuthSetup, origin: string): fc.Arbitrary<AuthorizeInput> {
  const valid: Record<string, string> = { response_type: 'code', client_id: setup.clientId, redirect_uri: setup.redirectUri, state: 'st', scope: 'support:read', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: `${origin}/mcp` };
  const changes = fc.record(
    {
      response_type: fc.oneof(fc.constantFrom('token', 'code id_token', 'CODE', ''), short),
      client_id: fc.oneof(fc.constantFrom(`${setup.clientId}x`, 'http://127.0.0.1:9/client.json', 'https://127.0.0.1:9/client.json', 'http://localhost:9/', ''), short),
      redirect_uri: fc.oneof(fc.constantFrom(`${setup.redirectUri}/x`, `${setup.redirectUri}?a=1`, 'https://evil.example/cb', 'javascript:alert(1)', 'http://127.0.0.1:10/callback'), uri),
      state: fc.oneof(short, fc.string({ minLength: 500, maxLength: 3000 })),
      scope: fc.oneof(fc.constantFrom('support:read sql:read', 'admin', 'openid offline_access', ''), short),
      code_challenge: fc.oneof(fc.constantFrom('short', 'x'.repeat(129), ''), short),
      code_challenge_method: fc.oneof(fc.constantFrom('plain', 's256', ''), short),
      resource: fc.oneof(fc.constantFrom(`${origin}/mcp/`, 'https://evil.example/mcp', origin, ''), uri),
      extra: short,
    },
  );
  return fc
    .tuple(changes, fc.subarray([...Object.keys(valid), 'extra'], { maxLength: 2 }), fc.subarray(Object.keys(valid), { maxLength: 1 }), fc.subarray(Object.keys(valid), { maxLength: 1 }))
    .map(([values, changed, dropped, repeated]) => {
      const params: Record<string, string> = { ...valid };
      for (const key of changed) params[key] = values[key as keyof typeof values];
      for (const key of dropped) delete params[key];
      const entries = Object.entries(params);
      return [...entries, ...entries.filter(([k]) => repeated.includes(k))];
    });
}

/** Edge `authorize`: a page or a redirect to the upstream provider only (never to an unregistered URI); a refusal stores no transaction. */
export function authorizeProbe(ctx: FuzzContext, setup: OAuthSetup): Probe<AuthorizeInput> {
  return async (params) => {
    const before = await ctx.snapshot(['transactions', 'clients']);
    const query = new URLSearchParams(params).toString();
    const result = await exchange(ctx, new Request(`${ctx.origin}/authorize?${query}`, { redirect: 'manual' }), query + decodeURIComponent(query.replace(/\+/g, ' ')).toString());
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...authorizeShape(result.seen, setup.upstreamOrigin, [setup.redirectUri]));
    if (result.seen.status >= 400) out.push(...unchanged(before, await ctx.snapshot(['transactions', 'clients'])));
    return out;
  };
}

/** The input of /token or /revoke: form fields (repeats allowed), the content type, and an Authorization header. */
export interface FormInput {
  contentType: string;
  fields: Array<[string, string]>;
  authorization: string | undefined;
}

export function tokenForm(setup: OAuthSetup, origin: string, forRevoke: boolean): fc.Arbitrary<FormInput> {
  const opaque = fc.oneof(fc.string({ maxLength: 100 }), fc.constant(`${'A'.repeat(43)}.${'B'.repeat(43)}`), fc.constant('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), fc.string({ minLength: 5000, maxLength: 9000 }));
  const fields = fc.record(
    {
      grant_type: fc.oneof(fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'implicit', ''), short),
      code: opaque,
      refresh_token: opaque,
      token: opaque,
      token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'id_token', ''),
      code_verifier: fc.oneof(fc.string({ minLength: 43, maxLength: 128 }), short),
      redirect_uri: fc.oneof(fc.constant(setup.redirectUri), uri),
      client_id: fc.oneof(fc.constant(setup.clientId), short, fc.constant('http://127.0.0.1:9/client.json')),
      client_secret: short,
      client_assertion_type: fc.constantFrom('urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'x'),
      client_assertion: opaque,
      resource: fc.oneof(fc.constant(`${origin}/mcp`), uri),
      scope: fc.oneof(fc.constantFrom('support:read', 'admin', ''), short),
    },
    { requiredKeys: forRevoke ? ['token'] : ['grant_type'] },
  );
  return fc.record({
    contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data', 'application/x-www-form-urlencoded; charset=iso-8859-1', '') }),
    fields: fields.chain((f) => fc.tuple(fc.constant(Object.entries(f) as Array<[string, string]>), fc.subarray(Object.keys(f), { maxLength: 2 }))).map(([entries, repeated]) => [...entries, ...entries.filter(([k]) => repeated.includes(k))]),
    authorization: fc.option(fc.oneof(fc.constant(`Basic ${btoa(`${setup.clientId}:x`)}`), fc.constant('Basic !!!'), fc.constant(`Basic ${btoa('a')}`), short.map((s) => `Basic ${headerSafe(s)}`), short.map((s) => `Bearer ${headerSafe(s)}`)), { nil: undefined, freq: 4 }),
  });
}

/** Edges `token` and `revoke`: RFC 6749 error bodies (revoke may answer 200 for unknown tokens, RFC 7009); nothing is issued and no grant is stored. */
export function formProbe(ctx: FuzzContext, path: '/token' | '/revoke'): Probe<FormInput> {
  return async ({ contentType, fields, authorization }) => {
    const before = await ctx.snapshot(['transactions', 'clients']);
    const body = new URLSearchParams(fields).toString();
    const headers: Record<string, string> = { 'content-type': contentType, 'cf-connecting-ip': '192.0.2.77' };
    if (authorization) headers.authorization = authorization;
    const result = await exchange(ctx, new Request(`${ctx.origin}${path}`, { method: 'POST', headers, body }), body + JSON.stringify(fields));
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...oauthShape(result.seen, path === '/revoke' ? [200] : []));
    if (path === '/token' && result.seen.status === 200) out.push({ invariant: '/token issues nothing for a fuzzed form', detail: result.seen.text.slice(0, 120) });
    out.push(...unchanged(before, await ctx.snapshot(['transactions', 'clients'])));
    return out;
  };
}
