/** Fuzz edges of the credentials /mcp accepts: forged access tokens (alg none, kid games, odd claims, wrong aud/iss, expired) and API key strings. */
import fc from 'fast-check';
import { base64url, SignJWT } from 'jose';
import { exchange, headerSafe, unchanged, type FuzzContext } from './context.ts';
import { mcpShape } from './invariants.ts';
import type { Probe, Violation } from './runner.ts';

/** What forging needs: the server's real signing key (to sign tokens whose claims are wrong), an attacker's key, the published JWKS. */
export interface TokenSetup {
  issuer: string;
  resource: string;
  realKid: string;
  realKey: CryptoKey;
  attackerKey: CryptoKey;
  attackerJwk: Record<string, unknown>;
  jwksText: string;
}

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } });

/** Claim changes that make a token from the real key invalid on their own. */
const BREAKING = ['wrong_iss', 'wrong_aud', 'aud_array_other', 'expired', 'no_exp', 'no_sub', 'empty_sub', 'short_jti', 'no_jti', 'typ_jwt', 'no_typ', 'nbf_future', 'short_gid', 'exp_string', 'iat_future_exp_past'] as const;
/** Claim changes that are odd but not, by themselves, grounds for refusal. */
const ODD = ['huge_scope', 'nested_claim', 'unicode_sub', 'client_id_object', 'numeric_aud', 'proto_claim', 'huge_exp'] as const;

type Breaking = (typeof BREAKING)[number];
type Odd = (typeof ODD)[number];

/** One forged token, described (built in the probe, since signing is asynchronous). */
export interface TokenSpec {
  signer: 'real' | 'attacker' | 'none' | 'hs256_with_jwks' | 'garbage';
  kid: 'real' | 'missing' | 'empty' | 'traversal' | 'huge' | 'number' | 'sql' | 'random';
  headerExtras: Array<'jwk' | 'jku' | 'x5u' | 'crit' | 'b64'>;
  breaking: Breaking[];
  odd: Odd[];
  mangle: 'none' | 'append' | 'trailing_dot' | 'fourth_segment' | 'swap' | 'space' | 'truncate';
  random: string;
}

/** Specs of tokens the server must refuse; one from the real key always has at least one breaking change. */
export const tokenSpec: fc.Arbitrary<TokenSpec> = fc
  .record({
    signer: fc.constantFrom<TokenSpec['signer']>('real', 'real', 'attacker', 'none', 'hs256_with_jwks', 'garbage'),
    kid: fc.constantFrom<TokenSpec['kid']>('real', 'real', 'missing', 'empty', 'traversal', 'huge', 'number', 'sql', 'random'),
    headerExtras: fc.subarray(['jwk', 'jku', 'x5u', 'crit', 'b64'] as const),
    breaking: fc.subarray([...BREAKING], { maxLength: 3 }),
    odd: fc.subarray([...ODD], { maxLength: 3 }),
    mangle: fc.constantFrom<TokenSpec['mangle']>('none', 'none', 'none', 'append', 'trailing_dot', 'fourth_segment', 'swap', 'space', 'truncate'),
    random: fc.string({ minLength: 1, maxLength: 40 }).map(headerSafe),
  })
  .filter((s) => s.signer !== 'real' || s.breaking.length > 0 || !['none'].includes(s.mangle) || s.headerExtras.includes('crit') || s.headerExtras.includes('b64') || s.kid !== 'real');

function kidOf(spec: TokenSpec, setup: TokenSetup): unknown {
  switch (spec.kid) {
    case 'real': return setup.realKid;
    case 'missing': return undefined;
    case 'empty': return '';
    case 'traversal': return '../../../../etc/passwd';
    case 'huge': return 'k'.repeat(20_000);
    case 'number': return 1;
    case 'sql': return "' OR '1'='1";
    case 'random': return spec.random;
  }
}

function claimsOf(spec: TokenSpec, setup: TokenSetup): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const c: Record<string, unknown> = { iss: setup.issuer, aud: setup.resource, sub: 'fuzz-user', client_id: 'fuzz-client', scope: 'support:read', jti: 'j'.repeat(22), gid: 'g'.repeat(43), iat: now, exp: now + 300 };
  // Odd changes first, breaking ones last: an odd change (a unicode sub, a huge exp) must never undo the change that makes the token one to refuse.
  for (const o of spec.odd) {
    if (o === 'huge_scope') c.scope = 'support:read '.repeat(6000);
    if (o === 'nested_claim') c.x = JSON.parse('['.repeat(500) + ']'.repeat(500));
    if (o === 'unicode_sub') c.sub = '\u202e\u0000ሴ😀';
    if (o === 'client_id_object') c.client_id = { id: 'x' };
    if (o === 'numeric_aud') c.aud = 42;
    if (o === 'proto_claim') Object.defineProperty(c, '__proto__', { value: { admin: true }, enumerable: true, writable: true, configurable: true });
    if (o === 'huge_exp') c.exp = 1e308;
  }
  for (const b of spec.breaking) {
    if (b === 'wrong_iss') c.iss = 'https://evil.example';
    if (b === 'wrong_aud') c.aud = `${setup.issuer}/other`;
    if (b === 'aud_array_other') c.aud = ['https://evil.example/mcp'];
    if (b === 'expired') c.exp = now - 3600;
    if (b === 'no_exp') delete c.exp;
    if (b === 'no_sub') delete c.sub;
    if (b === 'empty_sub') c.sub = '';
    if (b === 'short_jti') c.jti = 'j';
    if (b === 'no_jti') delete c.jti;
    if (b === 'nbf_future') c.nbf = now + 3600;
    if (b === 'short_gid') c.gid = 'g';
    if (b === 'exp_string') c.exp = String(now + 300);
    if (b === 'iat_future_exp_past') Object.assign(c, { iat: now + 3600, exp: now - 10 });
  }
  return c;
}

const text = (value: unknown) => base64url.encode(new TextEncoder().encode(JSON.stringify(value)));

/** Builds the token a spec describes. */
export async function forge(spec: TokenSpec, setup: TokenSetup): Promise<string> {
  const typ = spec.breaking.includes('no_typ') ? undefined : spec.breaking.includes('typ_jwt') ? 'JWT' : 'at+jwt';
  const header: Record<string, unknown> = { alg: 'ES256', typ, kid: kidOf(spec, setup) };
  if (spec.headerExtras.includes('jwk')) header.jwk = setup.attackerJwk;
  if (spec.headerExtras.includes('jku')) header.jku = 'http://127.0.0.1:9/jwks.json';
  if (spec.headerExtras.includes('x5u')) header.x5u = 'http://127.0.0.1:9/cert.pem';
  if (spec.headerExtras.includes('crit')) Object.assign(header, { crit: ['exp'] });
  if (spec.headerExtras.includes('b64')) Object.assign(header, { b64: false, crit: ['b64'] });
  const claims = claimsOf(spec, setup);
  let token: string;
  if (spec.signer === 'none') {
    token = `${text({ ...header, alg: 'none' })}.${text(claims)}.`;
  } else if (spec.signer === 'garbage') {
    token = `${text(header)}.${spec.random}.${spec.random}`;
  } else if (spec.signer === 'hs256_with_jwks') {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(setup.jwksText), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const input = `${text({ ...header, alg: 'HS256' })}.${text(claims)}`;
    token = `${input}.${base64url.encode(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))))}`;
  } else {
    // jose refuses some headers when signing (crit it does not know): sign the raw input by hand then.
    const key = spec.signer === 'real' ? setup.realKey : setup.attackerKey;
    try {
      token = await new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
    } catch {
      const input = `${text(header)}.${text(claims)}`;
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(input));
      token = `${input}.${base64url.encode(new Uint8Array(sig))}`;
    }
  }
  const [h = '', p = '', s = ''] = token.split('.');
  switch (spec.mangle) {
    case 'none': return token;
    case 'append': return `${token}A`;
    case 'trailing_dot': return `${token}.`;
    case 'fourth_segment': return `${token}.${h}`;
    case 'swap': return `${p}.${h}.${s}`;
    case 'space': return `${h}. ${p}.${s}`;
    case 'truncate': return token.slice(0, Math.max(1, token.length - 5));
  }
}

/** Edge `access-tokens`: every forged token is a 401 invalid_token JSON-RPC error with a Bearer challenge; no session is made. */
export function tokenProbe(ctx: FuzzContext, setup: TokenSetup): Probe<TokenSpec> {
  return async (spec) => {
    const token = await forge(spec, setup);
    const before = await ctx.snapshot(['sessions']);
    const headers = { host: new URL(ctx.origin).host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` };
    const result = await exchange(ctx, new Request(`${ctx.origin}/mcp`, { method: 'POST', headers, body: INITIALIZE }), token);
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...mcpShape(result.seen));
    if (result.seen.status !== 401 || !/error="invalid_token"/.test(result.seen.headers.get('www-authenticate') ?? '')) {
      out.push({ invariant: 'a forged access token is refused 401 invalid_token', detail: `${result.seen.status} ${result.seen.headers.get('www-authenticate') ?? ''}`.slice(0, 200) });
    }
    out.push(...unchanged(before, await ctx.snapshot(['sessions'])));
    return out;
  };
}

/** A real key (as issued) and, optionally, a revoked one, to mutate. */
export interface KeySetup {
  key: string;
  revokedKey?: string;
}

const KEY_CHARS = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split(''));
const part = (n: number) => fc.array(KEY_CHARS, { minLength: n, maxLength: n }).map((a) => a.join(''));

/** API key strings: well-formed random ones, the real key id with other secrets, the real key mutated, near-formats. */
export function apiKeyStrings(setup: KeySetup): fc.Arbitrary<string> {
  const real = setup.key;
  const keyId = real.slice(5, 48);
  return fc.oneof(
    fc.tuple(part(43), part(43)).map(([a, b]) => `mcpk_${a}.${b}`),
    part(43).map((s) => `mcpk_${keyId}.${s}`),
    fc.tuple(fc.nat({ max: real.length - 1 }), KEY_CHARS).map(([at, c]) => (real[at] === c ? `${real}x` : real.slice(0, at) + c + real.slice(at + 1))),
    fc.constantFrom(`${real}x`, real.slice(0, -1), `MCPK_${real.slice(5)}`, `mcpk_${keyId}`, `mcpk_${keyId}.`, `${real}.${real}`, real.replace('.', '..'), `mcpk_${real.slice(49)}.${keyId}`, ...(setup.revokedKey ? [setup.revokedKey] : [])),
    fc.tuple(fc.integer({ min: 0, max: 90 }), fc.integer({ min: 0, max: 90 })).chain(([a, b]) => fc.tuple(part(a), part(b))).map(([a, b]) => `mcpk_${a}.${b}`),
    fc.string({ maxLength: 120 }).map((s) => `mcpk_${headerSafe(s)}`),
  );
}

/** Edge `api-keys`: every key string but the real one is a 401 with a Bearer challenge; no session, and the key's record (last use, status) is unchanged. */
export function apiKeyProbe(ctx: FuzzContext, setup: KeySetup): Probe<string> {
  return async (candidate) => {
    if (candidate === setup.key) return [];
    const before = await ctx.snapshot(['sessions', 'keys']);
    const headers = { host: new URL(ctx.origin).host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${candidate}` };
    const result = await exchange(ctx, new Request(`${ctx.origin}/mcp`, { method: 'POST', headers, body: INITIALIZE }), candidate);
    const out: Violation[] = [...result.violations];
    if (!result.seen) return out;
    out.push(...mcpShape(result.seen));
    if (result.seen.status !== 401) out.push({ invariant: 'a wrong API key is refused 401', detail: `${result.seen.status} ${result.seen.text.slice(0, 160)}` });
    out.push(...unchanged(before, await ctx.snapshot(['sessions', 'keys'])));
    return out;
  };
}
