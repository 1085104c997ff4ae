// End to end in Node: `mcp-admin detections list`, `detections test` and `detections run` (bin/mcp-admin.mjs) against the real server, after a rate-limit storm on one key.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerHandle as Server } from '../support/server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/mcp-admin.mjs');
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'detections-e2e', version: '1.0.0' } } };
const STORM = 'MCP rate-limit storm on one API key';

let server: Server;
let keyId = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, MCP_ADMIN_URL: server.url, MCP_ADMIN_SECRET: server.adminSecret };
  const run = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  server = await startServer();
  const created = await fetch(`${server.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminSecret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_name: 'Storm', owner: 'user-storm', scopes: ['support:read'], rate_limit: { requests: 1, per_seconds: 86_400 } }),
  });
  expect(created.status).toBe(201);
  const key = (await created.json()) as { key: string; key_id: string };
  keyId = key.key_id;
  const statuses: number[] = [];
  for (let i = 0; i < 21; i++) {
    const response = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key.key}` }, body: JSON.stringify(INITIALIZE) });
    statuses.push(response.status);
    await response.body?.cancel();
  }
  expect(statuses.filter((s) => s === 429)).toHaveLength(20);
  // The key's outbox delivers its events about a second later: wait until the export shows all twenty.
  for (;;) {
    const text = await (await fetch(`${server.url}/admin/audit/events?type=key.rate_limited`, { headers: { authorization: `Bearer ${server.adminSecret}` } })).text();
    if (text.trim().split('\n').filter((l) => l.includes(keyId)).length >= 20) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('mcp-admin detections', () => {
  it('list prints the alerting rules with level, type, grouping and timespan', () => {
    const run = cli('detections', 'list');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^ID\s+LEVEL\s+TYPE\s+GROUP BY\s+SPAN\s+TITLE/);
    expect(run.stdout).toContain(STORM);
    expect(run.stdout).toMatch(/medium\s+event_count\s+labels\.key_id\s+5m\s+MCP rate-limit storm/);
    expect(run.stdout).not.toContain('MCP API key request refused by its rate limit');
  });

  it('test prints the storm as a hit for that key; --json gives the same hit; an empty range prints no hits', () => {
    const run = cli('detections', 'test', '--since', '1h');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(STORM);
    expect(run.stdout).toContain(`labels.key_id=${keyId}`);
    expect(run.stdout).toMatch(/\d+ hits? in \d+ events/);
    const json = cli('detections', 'test', '--since', '1h', '--json');
    expect(json.status).toBe(0);
    const body = JSON.parse(json.stdout) as { hits: Array<{ title: string; group: Record<string, string>; count: number }> };
    expect(body.hits.filter((h) => h.title === STORM && h.group['labels.key_id'] === keyId)).toEqual([expect.objectContaining({ count: 20 })]);
    const empty = cli('detections', 'test', '--since', '2020-01-01', '--until', '2020-01-02');
    expect(empty.status).toBe(0);
    expect(empty.stdout).toMatch(/^no hits in 0 events/);
  });

  it('run fires the storm once as detection.fired (unless the schedule already had); running again fires nothing new', async () => {
    const first = cli('detections', 'run', '--json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const run = JSON.parse(first.stdout) as { events: number; hits: number; fired: string[] };
    expect(run.events).toBeGreaterThanOrEqual(21);
    expect(run.hits).toBeGreaterThanOrEqual(1);
    const storedFired = async () => {
      const text = await (await fetch(`${server.url}/admin/audit/events?type=detection.fired`, { headers: { authorization: `Bearer ${server.adminSecret}` } })).text();
      return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { id: string; params: { rule_title: string; group: Record<string, string> } });
    };
    const storms = (await storedFired()).filter((e) => e.params.rule_title === STORM && e.params.group['labels.key_id'] === keyId);
    expect(storms).toHaveLength(1);
    const again = cli('detections', 'run');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/^\d+ hits? in \d+ events \(.+\), 0 new\n$/);
    expect((await storedFired()).filter((e) => e.params.rule_title === STORM && e.params.group['labels.key_id'] === keyId)).toEqual(storms);
  });

  it('a bad range is a usage error (exit 2) before any request', () => {
    const run = cli('detections', 'test', '--since', '1h', '--until', '2h');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('must be before --until');
  });
});
