// Bounded HTTP load on 127.0.0.1 with node:http keep-alive connections: MCP helpers, timed loops, latency statistics.
import http from 'node:http';

const PROTOCOL_VERSION = '2025-11-25';
const REQUEST_TIMEOUT_MS = 15_000;
/** Safety net: no scenario ever issues more iterations than this, whatever the duration. */
const MAX_ITERATIONS = 1_000_000;

/** Headers of every MCP POST (the Host header is the target's 127.0.0.1:port, which the dev gate allows). */
const MCP_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * A keep-alive HTTP client bound to one loopback origin; `close()` destroys its sockets.
 * @param {string} baseUrl e.g. http://127.0.0.1:8787
 * @param {number} connections most sockets kept open at once
 * @param {Record<string, string>} [mcpHeaders] added to every request to /mcp (e.g. Authorization)
 */
export function createClient(baseUrl, connections, mcpHeaders = {}) {
  const base = new URL(baseUrl);
  if (base.hostname !== '127.0.0.1') throw new Error(`refusing a non-loopback target: ${baseUrl}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  return {
    /**
     * One request; resolves with status, headers and the whole body as text (never rejects on HTTP status).
     * @param {string} method
     * @param {string} path
     * @param {{ headers?: Record<string, string>, body?: unknown, signal?: AbortSignal }} [options]
     * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, text: string }>}
     */
    request(method, path, { headers = {}, body, signal } = {}) {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      if (path === '/mcp') headers = { ...mcpHeaders, ...headers };
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            headers: payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
            signal,
          },
          (res) => {
            const chunks = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    /** Destroys every socket of this client. */
    close() {
      agent.destroy();
    },
  };
}

/**
 * The JSON-RPC messages of a response body: SSE `data:` lines, or one JSON document.
 * @param {{ headers: http.IncomingHttpHeaders, text: string }} response
 * @returns {any[]}
 */
export function rpcMessages(response) {
  const type = String(response.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) return [JSON.parse(response.text)];
  const out = [];
  for (const block of response.text.split('\n\n')) {
    let data = '';
    for (const line of block.split('\n')) if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
    if (data !== '') out.push(JSON.parse(data));
  }
  return out;
}

/**
 * Checks a JSON-RPC answer: throws on a non-2xx status, a missing reply, a JSON-RPC error or `isError`.
 * @param {{ status: number, headers: http.IncomingHttpHeaders, text: string }} response
 * @param {string | number} id the request id the reply must carry
 */
export function expectResult(response, id) {
  if (response.status < 200 || response.status > 299) throw new Error(`HTTP ${response.status}: ${response.text.slice(0, 200)}`);
  const reply = rpcMessages(response).find((m) => m?.id === id);
  if (!reply) throw new Error(`no reply with id ${id}: ${response.text.slice(0, 200)}`);
  if (reply.error) throw new Error(`JSON-RPC error ${reply.error.code}: ${reply.error.message}`);
  if (reply.result?.isError) throw new Error(`isError: ${JSON.stringify(reply.result.content).slice(0, 200)}`);
  return reply.result;
}

/**
 * Opens an MCP session (initialize, then notifications/initialized) and returns the headers later requests need.
 * @param {ReturnType<typeof createClient>} client
 * @param {AbortSignal} [signal]
 */
export async function openSession(client, signal) {
  const init = await client.request('POST', '/mcp', {
    headers: MCP_POST,
    signal,
    body: { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } } },
  });
  expectResult(init, 0);
  const sessionId = init.headers['mcp-session-id'];
  if (typeof sessionId !== 'string') throw new Error('initialize answered without an mcp-session-id header');
  const headers = { ...MCP_POST, 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION };
  const ack = await client.request('POST', '/mcp', { headers, signal, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
  if (ack.status !== 202) throw new Error(`notifications/initialized answered HTTP ${ack.status}: ${ack.text.slice(0, 200)}`);
  return headers;
}

/**
 * Ends a session with DELETE; throws unless the server answers 2xx.
 * @param {ReturnType<typeof createClient>} client
 * @param {Record<string, string>} headers from openSession
 * @param {AbortSignal} [signal]
 */
export async function closeSession(client, headers, signal) {
  const { accept, 'mcp-session-id': id, 'mcp-protocol-version': version } = headers;
  const response = await client.request('DELETE', '/mcp', { headers: { accept, 'mcp-session-id': id, 'mcp-protocol-version': version }, signal });
  if (response.status < 200 || response.status > 299) throw new Error(`DELETE answered HTTP ${response.status}: ${response.text.slice(0, 200)}`);
}

/**
 * Calls a tool in a session and checks the reply.
 * @param {ReturnType<typeof createClient>} client
 * @param {Record<string, string>} headers from openSession
 * @param {number} id JSON-RPC request id
 * @param {string} name
 * @param {Record<string, unknown>} args
 * @param {AbortSignal} [signal]
 */
export async function callTool(client, headers, id, name, args, signal) {
  const response = await client.request('POST', '/mcp', { headers, signal, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } } });
  return expectResult(response, id);
}

/**
 * Latency statistics in milliseconds (nearest-rank percentiles).
 * @param {number[]} samples
 */
export function summarize(samples) {
  if (samples.length === 0) return { min: null, mean: null, p50: null, p90: null, p99: null, max: null };
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const round = (x) => Math.round(x * 1000) / 1000;
  return { min: round(sorted[0]), mean: round(mean), p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]) };
}

/**
 * N keep-alive connections to one server, each with its own state from `setup` (e.g. an MCP session), ready to
 * run timed phases. Every connection runs `iteration` back to back until the phase deadline; one iteration in
 * flight per connection. `close(teardown)` ends the states and destroys the sockets.
 * @template S
 * @param {object} options
 * @param {string} options.baseUrl loopback origin of the server
 * @param {number} options.connections concurrent connections (and loops)
 * @param {Record<string, string>} [options.mcpHeaders] added to every /mcp request (the bearer token)
 * @param {AbortSignal} options.signal aborts everything (SIGINT, watchdog)
 * @param {(client: ReturnType<typeof createClient>, index: number) => Promise<S>} [options.setup]
 */
export async function openLoad({ baseUrl, connections, mcpHeaders, signal, setup }) {
  const client = createClient(baseUrl, connections, mcpHeaders);
  /** @type {S[]} */
  let states;
  try {
    states = await Promise.all(Array.from({ length: connections }, (_, i) => (setup ? setup(client, i) : Promise.resolve(/** @type {S} */ (undefined)))));
  } catch (error) {
    client.close();
    throw error;
  }
  let n = 0;
  return {
    /**
     * Runs every loop until the deadline; returns latencies (ms) and errors of that phase.
     * @param {number} ms
     * @param {(client: ReturnType<typeof createClient>, state: S, n: number) => Promise<void>} iteration throws on error
     */
    async phase(ms, iteration) {
      const latencies = [];
      const errors = [];
      const deadline = performance.now() + ms;
      const started = performance.now();
      await Promise.all(
        states.map(async (state) => {
          while (performance.now() < deadline && !signal.aborted && n < MAX_ITERATIONS) {
            const t0 = performance.now();
            try {
              await iteration(client, state, n++);
              latencies.push(performance.now() - t0);
            } catch (error) {
              if (signal.aborted) break;
              errors.push(String(/** @type {Error} */ (error)?.message ?? error));
            }
          }
        }),
      );
      if (signal.aborted) throw new Error('interrupted');
      return { latencies, errors, elapsedMs: performance.now() - started };
    },
    /** @param {(client: ReturnType<typeof createClient>, state: S) => Promise<void>} [teardown] */
    async close(teardown) {
      try {
        if (teardown && !signal.aborted) await Promise.all(states.map((s) => (s === undefined ? undefined : teardown(client, s).catch(() => {}))));
      } finally {
        client.close();
      }
    },
  };
}

/**
 * The figures of one or more measured phases taken together (latencies pooled, time summed).
 * @param {Array<{ latencies: number[], errors: string[], elapsedMs: number }>} phases
 */
export function phaseResult(phases) {
  const latencies = phases.flatMap((p) => p.latencies);
  const errors = phases.flatMap((p) => p.errors);
  const elapsedMs = phases.reduce((sum, p) => sum + p.elapsedMs, 0);
  const distinct = [...new Set(errors.map((e) => e.replace(/[A-Za-z0-9_-]{43}/g, '<id>')))];
  return {
    iterations: latencies.length + errors.length,
    ok: latencies.length,
    errors: errors.length,
    errorSamples: distinct.slice(0, 3),
    seconds: Math.round(elapsedMs) / 1000,
    perSecond: Math.round((latencies.length / elapsedMs) * 1000 * 10) / 10,
    latencyMs: summarize(latencies),
  };
}

/**
 * Runs one scenario: `setup` once per connection, a warm-up phase (discarded), a measured phase, then `teardown`.
 * @template S
 * @param {object} options
 * @param {string} options.baseUrl loopback origin of the server
 * @param {number} options.connections concurrent connections (and loops)
 * @param {Record<string, string>} [options.mcpHeaders] added to every /mcp request (the bearer token)
 * @param {number} options.warmupMs
 * @param {number} options.durationMs
 * @param {AbortSignal} options.signal aborts everything (SIGINT, watchdog)
 * @param {(client: ReturnType<typeof createClient>, index: number) => Promise<S>} [options.setup]
 * @param {(client: ReturnType<typeof createClient>, state: S, n: number) => Promise<void>} options.iteration throws on error
 * @param {(client: ReturnType<typeof createClient>, state: S) => Promise<void>} [options.teardown]
 */
export async function runLoad({ baseUrl, connections, mcpHeaders, warmupMs, durationMs, signal, setup, iteration, teardown }) {
  const load = await openLoad({ baseUrl, connections, mcpHeaders, signal, setup });
  try {
    const warm = await load.phase(warmupMs, iteration);
    const measured = await load.phase(durationMs, iteration);
    return {
      ...phaseResult([measured]),
      /** The discarded warm-up phase: its successful and failed iterations (they happened all the same, e.g. were audited). */
      warmup: { ok: warm.latencies.length, errors: warm.errors.length },
    };
  } finally {
    await load.close(teardown);
  }
}
