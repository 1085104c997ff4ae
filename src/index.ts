/** The Worker: a thin router (itty-router) for discovery, the OAuth endpoints and the /mcp gate. */
import { Router, type IRequest } from 'itty-router';
import { ConfigError, loadConfig } from './config.ts';
import { SigningKeyError } from './auth/signing-keys.ts';
import { IdSecretError } from './auth/ids.ts';
import type { Env } from './env.ts';
import { gateError } from './errors.ts';
import { handleAdmin } from './http/admin.ts';
import { handleAuthorize, handleConsent } from './http/authorize.ts';
import { handleCallback } from './http/callback.ts';
import { discovery } from './http/discovery.ts';
import { handleMcp } from './http/mcp.ts';
import { handleRegister } from './http/register.ts';
import { handleRevoke, handleToken } from './http/token.ts';
import { SERVER_INFO } from './mcp/server.ts';
import { handleToolsJwks } from './http/tools-jwks.ts';

export { McpSession } from '../durable/session.ts';
export { EmbeddedDatabase } from '../durable/embedded-db.ts';
export { AuthTransaction } from '../durable/auth-transaction.ts';
export { ClientRegistry } from '../durable/client-registry.ts';
export { ApiKey } from '../durable/api-key.ts';
export { AuditStore } from '../durable/audit-store.ts';

type Args = [Env, ExecutionContext];
type Handler = (request: Request, env: Env) => Response | Promise<Response>;

const FLOOR_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'floor' }] } });

/** Endpoints that browser-based clients call directly (every origin allowed, no credentials). */
function withCors(handler: Handler): Handler {
  return async (request, env) => {
    if (request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' },
      });
    }
    const response = await handler(request, env);
    const out = new Response(response.body, response);
    out.headers.set('access-control-allow-origin', '*');
    return out;
  };
}

const AS_METADATA = ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/mcp', '/.well-known/openid-configuration', '/.well-known/openid-configuration/mcp', '/mcp/.well-known/openid-configuration'];

const router = Router<IRequest, Args>();
for (const path of AS_METADATA) router.get(path, (req, env: Env) => discovery.authorizationServer(req, env));
router
  .get('/.well-known/oauth-protected-resource', (req, env: Env) => discovery.protectedResource(req, env))
  .get('/.well-known/oauth-protected-resource/mcp', (req, env: Env) => discovery.protectedResource(req, env))
  .get('/jwks.json', (req, env: Env) => discovery.jwks(req, env))
  .get('/.well-known/mcp-tools-jwks.json', () => handleToolsJwks())
  .get('/authorize', (req, env: Env) => handleAuthorize(req, env))
  .post('/authorize/consent', (req, env: Env) => handleConsent(req, env))
  .get('/oauth/callback', (req, env: Env) => handleCallback(req, env))
  .all('/token', withCors(handleToken))
  .all('/revoke', withCors(handleRevoke))
  .all('/register', (req, env: Env) => (req.method === 'POST' || req.method === 'OPTIONS' ? withCors(handleRegister)(req, env) : notFound()))
  .get('/', (_req, env: Env) =>
    Response.json({ name: SERVER_INFO.name, version: SERVER_INFO.version, mcp: '/mcp', database: env.HYPERDRIVE ? 'mysql' : 'embedded' }),
  )
  .get('/health', () => Response.json({ ok: true }))
  .all('/mcp', (req, env: Env) => handleMcp(req, env))
  .all('/admin/*', (req, env: Env) => handleAdmin(req, env))
  // Benchmark floor: a bare route returning a fixed JSON-RPC result, only when enabled.
  .post('/_bench/floor', (_req, env: Env) =>
    loadConfig(env).ENABLE_BENCH_FLOOR ? new Response(FLOOR_BODY, { headers: { 'content-type': 'application/json' } }) : notFound(),
  )
  .all('*', () => notFound());

function notFound(): Response {
  return Response.json({ error: 'not_found' }, { status: 404 });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    try {
      loadConfig(env);
      return await router.fetch(request, env, ctx);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SigningKeyError || error instanceof IdSecretError) {
        console.error(JSON.stringify({ event: 'config_invalid', error: error.message }));
        return gateError('internal', 'server configuration is invalid; see the server log');
      }
      console.error(JSON.stringify({ event: 'unhandled', error: String(error) }));
      return gateError('internal');
    }
  },
} satisfies ExportedHandler<Env>;
