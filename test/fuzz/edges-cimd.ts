/** Fuzz edge of Client ID Metadata Documents (Node only): a local document server answers each fetch as the input says; /authorize must stay typed and store nothing it refused. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exchange, unchanged, type FuzzContext } from './context.ts';
import { authorizeShape } from './invariants.ts';
import type { Probe, Violation } from './runner.ts';

/** How the document server answers one client_id. */
export interface CimdInput {
  status: number;
  contentType: string;
  cacheControl: string;
  body: 'document' | 'text' | 'huge' | 'deep' | 'empty' | 'array';
  clientIdMatches: 'exact' | 'other' | 'missing' | 'trailing_slash';
  document: Record<string, unknown>;
  redirect: boolean;
}

const anyJson = fc.jsonValue({ maxDepth: 2 });
const uri = fc.constantFrom('http://127.0.0.1:9/callback', 'https://app.example/cb', 'javascript:alert(1)', 'http://evil.example/cb', '', 'http://127.0.0.1:9/callback#x');

export const cimdInput: fc.Arbitrary<CimdInput> = fc.record({
  status: fc.constantFrom(200, 200, 200, 200, 201, 204, 301, 404, 500),
  contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/html', 'application/jwt', ''),
  cacheControl: fc.constantFrom('max-age=300', 'no-store', 'max-age=999999999', 'max-age=-1', ''),
  body: fc.constantFrom<CimdInput['body']>('document', 'document', 'document', 'text', 'huge', 'deep', 'empty', 'array'),
  clientIdMatches: fc.constantFrom<CimdInput['clientIdMatches']>('exact', 'exact', 'exact', 'other', 'missing', 'trailing_slash'),
  // A valid public client's document, half of the time with some fields changed.
  document: fc.tuple(
    fc.boolean(),
    fc.record(
      {
        redirect_uris: fc.oneof(fc.array(uri, { maxLength: 3 }), anyJson),
        client_name: fc.oneof(fc.string({ maxLength: 40 }), anyJson),
        token_endpoint_auth_method: fc.oneof(fc.constantFrom('none', 'client_secret_basic', 'private_key_jwt'), anyJson),
        grant_types: fc.oneof(fc.subarray(['authorization_code', 'refresh_token', 'client_credentials']), anyJson),
        response_types: fc.oneof(fc.constant(['code']), anyJson),
        jwks_uri: fc.oneof(uri, anyJson),
        client_secret: fc.string({ maxLength: 10 }),
        logo_uri: uri,
      },
      { requiredKeys: [] },
    ),
  ).map(([change, fields]) => ({ redirect_uris: ['http://127.0.0.1:9/callback'], client_name: 'Fuzz client', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...(change ? fields : {}) })),
  redirect: fc.constantFrom(false, false, false, false, true),
});

/** The document server: each path answers per its input; `register` returns the client_id URL. */
export async function startDocumentServer(): Promise<{ base: string; register(input: CimdInput): string; stop(): Promise<void> }> {
  const plans = new Map<string, CimdInput>();
  let n = 0;
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const plan = plans.get(path);
    if (!plan) return void res.writeHead(404).end();
    const url = `${base}${path}`;
    if (plan.redirect) return void res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere.json' }).end();
    const id = plan.clientIdMatches === 'exact' ? url : plan.clientIdMatches === 'other' ? `${base}/other.json` : plan.clientIdMatches === 'trailing_slash' ? `${url}/` : undefined;
    const doc = { ...plan.document, ...(id === undefined ? {} : { client_id: id }) };
    const body = plan.body === 'document' ? JSON.stringify(doc) : plan.body === 'text' ? 'not json' : plan.body === 'huge' ? JSON.stringify({ ...doc, pad: 'x'.repeat(64 * 1024) }) : plan.body === 'deep' ? `{"client_id":${JSON.stringify(id)},"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}` : plan.body === 'array' ? `[${JSON.stringify(doc)}]` : '';
    const headers: Record<string, string> = {};
    if (plan.contentType) headers['content-type'] = plan.contentType;
    if (plan.cacheControl) headers['cache-control'] = plan.cacheControl;
    res.writeHead(plan.status, headers).end(plan.status === 204 ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    register(input) {
      const path = `/clients/fuzz-${++n}.json`;
      plans.set(path, input);
      return `${base}${path}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Edge `cimd`: /authorize with a document-URL client_id is a page or an upstream redirect; a refused document is not stored. */
export function cimdProbe(ctx: FuzzContext, docs: { register(input: CimdInput): string }, upstreamOrigin: string): Probe<CimdInput> {
  return async (input) => {
    const clientId = docs.register(input);
    const redirectUris = Array.isArray(input.document.redirect_uris) ? input.document.redirect_uris.filter((u): u is string => typeof u === 'string') : [];
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUris[0] ?? 'http://127.0.0.1:9/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' });
    const before = await ctx.snapshot(['clients']);
    const result = await exchange(ctx, new Request(`${ctx.origin}/authorize?${query}`, { redirect: 'manual' }), JSON.stringify(input) + clientId);
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...authorizeShape(result.seen, upstreamOrigin, redirectUris.filter((u) => u !== '')));
    if (result.seen.status >= 400) out.push(...unchanged(before, await ctx.snapshot(['clients'])));
    return out;
  };
}
