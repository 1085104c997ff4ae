// Checklist 49: the upstream ID token is refused unless its signature, iss, aud, nonce and expiry are right, against a real HTTP provider that misbehaves on purpose.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover, signIn, UpstreamError } from '../../src/upstream/oidc.ts';

const CLIENT_ID = 'own-mcp';
const NONCE = 'n-0123456789abcdef';

/** What the provider puts in the next ID token it issues. */
let nextToken: (issuer: string) => Promise<string>;
let issuer = '';
let key: CryptoKey;
let otherKey: CryptoKey;
let jwk: JWK;
let tokenRequests: URLSearchParams[] = [];
let server: http.Server;

function idToken(claims: Record<string, unknown>, signer: CryptoKey = key, kid = 'k1'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ nonce: NONCE, email: 'ada@example.test', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer((claims.iss as string | undefined) ?? issuer)
    .setAudience((claims.aud as string | undefined) ?? CLIENT_ID)
    .setSubject('ada')
    .setIssuedAt(now - 5)
    .setExpirationTime((claims.exp as number | undefined) ?? now + 300)
    .sign(signer);
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  key = pair.privateKey;
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }));
    } else if (url.pathname === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        tokenRequests.push(new URLSearchParams(body));
        res.setHeader('content-type', 'application/json');
        void nextToken(issuer).then((idToken) => res.end(JSON.stringify({ access_token: 'upstream-at', token_type: 'Bearer', id_token: idToken })));
      });
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function attempt(make: (issuer: string) => Promise<string>) {
  nextToken = make;
  tokenRequests = [];
  const metadata = await discover(issuer, Date.now());
  return signIn(metadata, { clientId: CLIENT_ID, clientSecret: 's3cret', code: 'c-1', redirectUri: 'http://localhost:8787/oauth/callback', verifier: 'v'.repeat(43), nonce: NONCE, now: Date.now() });
}

describe('49: the upstream ID token is checked', () => {
  it('a correct token signs the person in; the code exchange uses Basic auth and the PKCE verifier', async () => {
    const identity = await attempt(() => idToken({}));
    expect(identity).toMatchObject({ issuer, subject: 'ada', email: 'ada@example.test', userId: expect.stringMatching(/^u_[A-Za-z0-9_-]{27}$/) });
    const sent = tokenRequests[0];
    expect(sent?.get('grant_type')).toBe('authorization_code');
    expect(sent?.get('code_verifier')).toBe('v'.repeat(43));
    expect(sent?.get('client_secret')).toBeNull();
  });

  it.each([
    ['a wrong issuer', () => idToken({ iss: 'https://evil.example' }), 'the ID token is wrong iss'],
    ['a wrong audience', () => idToken({ aud: 'someone-else' }), 'the ID token is wrong aud'],
    ['an expired token', () => idToken({ exp: Math.floor(Date.now() / 1000) - 60 }), 'the ID token is expired'],
    ['a wrong nonce', () => idToken({ nonce: 'replayed-nonce' }), 'the ID token nonce does not match'],
    ['no nonce', () => idToken({ nonce: undefined }), 'the ID token nonce does not match'],
    ['a signature by another key', () => idToken({}, otherKey), 'the ID token is invalid'],
    ['an unsigned token (alg none)', async () => `${btoa(JSON.stringify({ alg: 'none' })).replace(/=+$/, '')}.${btoa(JSON.stringify({ iss: issuer, aud: CLIENT_ID, sub: 'ada', nonce: NONCE, exp: 9e9, iat: 1 })).replace(/=+$/, '')}.`, 'the ID token is invalid'],
  ])('%s is refused', async (_what, make, message) => {
    const error = await attempt(make).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toBe(message);
  });
});
