// Bearer tokens for the benchmark: the server's real OAuth sign-in against a local OpenID provider (test/support helpers).
import { randomBytes } from 'node:crypto';
import * as keys from '../../bin/lib/keys.mjs';
import { startIdp } from '../../test/support/idp.mjs';
import { signIn } from '../../test/support/oauth-flow.ts';

const CLIENT_ID = 'own-mcp-bench';
/** Node's fetch for both sides of the flow (everything is on 127.0.0.1). */
const FETCHERS = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };

/**
 * Starts a local upstream OpenID provider for a server that will listen on 127.0.0.1:`port`, and returns the
 * auth vars that server needs (what test/support/server.mjs does for wrangler dev) and a stopper.
 * @param {number} port the server's port (its /oauth/callback is registered with the provider)
 */
export async function startUpstream(port) {
  const secret = randomBytes(24).toString('base64url');
  const idp = await startIdp({ clients: [{ client_id: CLIENT_ID, client_secret: secret, redirect_uris: [`http://127.0.0.1:${port}/oauth/callback`] }] });
  /** @type {Record<string, string>} */
  const vars = { OAUTH_SIGNING_KEY: await keys.generateSigningKey(), UPSTREAM_ISSUER: idp.issuer, UPSTREAM_CLIENT_ID: CLIENT_ID, UPSTREAM_CLIENT_SECRET: secret };
  // Newer servers also want a secret for hashing ids; older ones ignore the extra var.
  const idSecret = /** @type {Record<string, unknown>} */ (keys).generateIdSecret;
  if (typeof idSecret === 'function') vars.ID_SECRET = String(idSecret());
  return { vars, stop: () => idp.stop() };
}

/**
 * Signs a new client in at the server (register, authorize, consent, upstream login, token) and returns the
 * header /mcp requests must carry, with the granted scope.
 * @param {string} baseUrl e.g. http://127.0.0.1:8787 (also the issuer and, with /mcp, the token audience)
 */
export async function bearerHeader(baseUrl) {
  const signed = await signIn(baseUrl, FETCHERS);
  return { headers: { authorization: `Bearer ${signed.accessToken}` }, scope: signed.scope, expiresIn: signed.expiresIn };
}

/** An API key with the tools' scopes and a limit the load never reaches (the Authorization header to send). */
export async function createBenchKey(url, adminSecret) {
  const response = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'bench', owner: 'bench', scopes: ['support:read', 'sql:read'], rate_limit: { requests: 1_000_000, per_seconds: 1 } }),
  });
  const body = await response.json();
  if (response.status !== 201 || typeof body.key !== 'string') throw new Error(`POST /admin/keys answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
  return { authorization: `Bearer ${body.key}` };
}
