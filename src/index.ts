/** The Worker: a thin router (itty-router) in front of the session Durable Objects. */
import { Router, type IRequest } from 'itty-router';
import { ConfigError, loadConfig } from './config.ts';
import type { Env } from './env.ts';
import { gateError } from './errors.ts';
import { handleMcp } from './http/mcp.ts';
import { SERVER_INFO } from './mcp/server.ts';

export { McpSession } from '../durable/session.ts';
export { EmbeddedDatabase } from '../durable/embedded-db.ts';

type Args = [Env, ExecutionContext];

const FLOOR_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'floor' }] } });

const router = Router<IRequest, Args>()
  .get('/', (_req, env: Env) =>
    Response.json({ name: SERVER_INFO.name, version: SERVER_INFO.version, mcp: '/mcp', database: env.HYPERDRIVE ? 'mysql' : 'embedded' }),
  )
  .get('/health', () => Response.json({ ok: true }))
  .all('/mcp', (req, env: Env) => handleMcp(req, env))
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
      if (error instanceof ConfigError) {
        console.error(JSON.stringify({ event: 'config_invalid', error: error.message }));
        return gateError('internal', 'server configuration is invalid; see the server log');
      }
      console.error(JSON.stringify({ event: 'unhandled', error: String(error) }));
      return gateError('internal');
    }
  },
} satisfies ExportedHandler<Env>;
