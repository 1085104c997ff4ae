/** The Worker: a thin router (itty-router) for discovery, the OAuth endpoints and the /mcp gate. */
import { Router, type IRequest } from 'itty-router';
import { ConfigError, loadConfig } from './config.ts';
import { SigningKeyError } from './auth/signing-keys.ts';
import { IdSecretError } from './auth/ids.ts';
import type { Env } from './env.ts';
import { gateError } from './errors.ts';
import { handleAdmin } from './http/admin.ts';
import { handleConsole, wantsConsole } from './http/console/router.ts';
import { handleAuthorize, handleConsent } from './http/authorize.ts';
import { handleCallback } from './http/callback.ts';
import { publicPreflight } from './http/cors.ts';
import { discovery, DISCOVERY_PATHS } from './http/discovery.ts';
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
export { AuditRelay } from '../durable/audit-relay.ts';
export { FailureCounter } from '../durable/failure-counter.ts';
export { AlertHub } from '../durable/alert-hub.ts';
export { SessionIndex } from '../durable/session-index.ts';

type Args = [Env, ExecutionContext];
type Handler = (request: Request, env: Env) => Response | Promise<Response>;

const FLOOR_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'floor' }] } });

/** Endpoints that browser-based clients call directly (every origin allowed, no credentials). */
function withCors(handler: Handler): Handler {
  return async (request, env) => {
    if (request.method === 'OPTIONS') return publicPreflight('POST, OPTIONS');
    const response = await handler(request, env);
    const out = new Response(response.body, response);
    out.headers.set('access-control-allow-origin', '*');
    return out;
  };
}

const router = Router<IRequest, Args>();
for (const [document, paths] of Object.entries(DISCOVERY_PATHS) as [keyof typeof DISCOVERY_PATHS, readonly string[]][]) {
  for (const path of paths) {
    router.get(path, (req, env: Env) => discovery[document](req, env));
    router.options(path, () => publicPreflight('GET, OPTIONS'));
  }
}
router
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
  .all('/mcp', (req, env: Env, ctx: ExecutionContext) => handleMcp(req, env, ctx))
  .all('/admin', (req, env: Env) => (wantsConsole(req) ? handleConsole(req, env) : handleAdmin(req, env)))
  .all('/admin/console/*', (req, env: Env) => handleConsole(req, env))
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
      return (await router.fetch(request, env, ctx)) as Response;
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SigningKeyError || error instanceof IdSecretError) {
        console.error(JSON.stringify({ event: 'config_invalid', error: error.message }));
        return gateError('internal', 'server configuration is invalid; see the server log');
      }
      console.error(JSON.stringify({ event: 'unhandled', error: String(error) }));
      return gateError('internal');
    }
  },
  /** The cron (`[triggers]` in wrangler.toml): keeps the in-server detections' schedule armed (durable/audit-store.ts `wake`). */
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).wake();
  },
} satisfies ExportedHandler<Env>;
