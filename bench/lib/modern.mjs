// MCP 2026-07-28 in the bench: one stateless tools/call (no session; the per-request envelope and routing headers), and its ratio to the 2025-11-25 session call of the same run.
import { expectResult } from './load.mjs';

const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/**
 * One stateless tools/call: a POST that carries its own envelope; there is no initialize and no session id.
 * @param {{ request: Function }} client from createClient
 * @param {number} id JSON-RPC request id
 * @param {string} name
 * @param {Record<string, unknown>} args
 * @param {AbortSignal} [signal]
 */
export async function callToolModern(client, id, name, args, signal) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name };
  const response = await client.request('POST', '/mcp', { headers, signal, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } } });
  if (response.headers['mcp-session-id'] !== undefined) throw new Error('a stateless call was answered with a session id');
  return expectResult(response, id);
}

/**
 * 2026-07-28 ÷ 2025-11-25 per runtime: the stateless get_customer against the session one (embedded, auditing on), same run.
 * @param {any[]} rows
 * @param {string[]} runtimes
 */
export function revisionRatios(rows, runtimes) {
  const out = [];
  for (const runtime of runtimes) {
    const legacy = rows.find((r) => r.runtime === runtime && r.scenario === 'get_customer_embedded' && !r.failed);
    const modern = rows.find((r) => r.runtime === runtime && r.scenario === 'get_customer_modern' && !r.failed);
    if (!legacy || !modern || !legacy.perSecond || !legacy.latencyMs?.p50 || !legacy.latencyMs?.p99) continue;
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    const figures = (r) => ({ perSecond: r.perSecond, p50: r.latencyMs.p50, p99: r.latencyMs.p99 });
    out.push({ runtime, legacy: figures(legacy), modern: figures(modern), ratio: { p50: ratio(modern.latencyMs.p50, legacy.latencyMs.p50), p99: ratio(modern.latencyMs.p99, legacy.latencyMs.p99), throughput: ratio(modern.perSecond, legacy.perSecond) } });
  }
  return out;
}

/** The lines the bench prints for the revision comparison. */
export function revisionLines(ratios) {
  const out = ['MCP 2026-07-28 (stateless, in the Worker) ÷ 2025-11-25 (session object): tools/call get_customer (embedded, auditing on), OAuth token, same run'];
  if (ratios.length === 0) out.push('  not measured (a scenario failed or was not run)');
  for (const r of ratios) {
    out.push(`  ${r.runtime}: p50 ${r.modern.p50.toFixed(2)} / ${r.legacy.p50.toFixed(2)} ms = ${r.ratio.p50.toFixed(2)}×, p99 ${r.ratio.p99.toFixed(2)}×, throughput ${r.modern.perSecond.toFixed(1)} / ${r.legacy.perSecond.toFixed(1)} per s = ${r.ratio.throughput.toFixed(2)}×`);
  }
  return out;
}
