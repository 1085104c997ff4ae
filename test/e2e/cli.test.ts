// End to end in Node: the mcp-admin command-line tool (bin/mcp-admin.mjs) against the real server's admin API, and the keys it makes at /mcp.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient, signIn, tokenRequest, type FlowFetchers } from '../support/oauth-flow.ts';
import { freePort, startServer, type ServerHandle as Server } from '../support/server.mjs';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A key summary as the admin API returns it. */
interface KeySummary {
  key_id: string;
  agent_id: string;
  agent_name: string;
  owner: string;
  scopes: string[];
  status: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  rate_limit: { requests: number; per_seconds: number };
  tool_limits: Record<string, { requests: number; per_seconds: number }>;
  secrets?: Array<{ created_at: string; retires_at: string | null }>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin/mcp-admin.mjs');
const KEY = /mcpk_([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})/g;
const FETCHERS: FlowFetchers = { server: (url, init) => fetch(url, init), idp: (url, init) => fetch(url, init) };
const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cli-e2e', version: '1.0.0' } } };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

let server: Server;

/** Runs the tool as a child process; `env` entries set to undefined are removed. */
function cli(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): Run {
  const env: Record<string, string | undefined> = { ...process.env, MCP_ADMIN_URL: server.url, MCP_ADMIN_SECRET: server.adminSecret, ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  const result = spawnSync(process.execPath, [CLI, ...args], { env, cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The keys printed in a text (every occurrence). */
function printedKeys(text: string): string[] {
  return [...text.matchAll(KEY)].map((m) => m[0]);
}

/** Creates a key through the tool's --json output. */
function createKey(agent: string, extra: string[] = []): KeySummary & { key: string } {
  const run = cli(['keys', 'create', '--agent', agent, '--owner', 'ops@example.com', '--scopes', 'support:read', '--json', ...extra]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as KeySummary & { key: string };
}

function listKeys(): KeySummary[] {
  const run = cli(['keys', 'list', '--json']);
  expect(run.status).toBe(0);
  return (JSON.parse(run.stdout) as { keys: KeySummary[] }).keys;
}

function showKey(id: string): KeySummary {
  const run = cli(['keys', 'show', id, '--json']);
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as KeySummary;
}

/** POSTs initialize to /mcp with the key as the bearer credential. */
async function initialize(key: string): Promise<Response> {
  return fetch(server.mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: JSON.stringify(INITIALIZE) });
}

/** Asserts that /mcp accepts the key: 200 with a session id and the key's rate headers. */
async function expectAccepted(key: string): Promise<string> {
  const response = await initialize(key);
  const body = await response.text();
  expect(response.status, body).toBe(200);
  expect(response.headers.get('ratelimit-policy')).toMatch(/^"key";q=\d+;w=\d+$/);
  expect(body).toContain('"protocolVersion":"2025-11-25"');
  const sessionId = response.headers.get('mcp-session-id');
  expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return sessionId ?? '';
}

/** Asserts that /mcp refuses the key: 401 invalid_token, and no session is opened. */
async function expectRefused(key: string): Promise<void> {
  const response = await initialize(key);
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  expect(response.headers.get('mcp-session-id')).toBeNull();
  expect(await response.text()).not.toContain('protocolVersion');
}

/** Asserts a failure: its exit code, the message on stderr, nothing on stdout, and no secret printed. */
function expectFailure(run: Run, exit: number, message: string | RegExp): void {
  expect(run.stdout).toBe('');
  if (typeof message === 'string') expect(run.stderr).toContain(message);
  else expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toContain(server.adminSecret);
  expect(run.status).toBe(exit);
}

beforeAll(async () => {
  server = (await startServer());
});
afterAll(async () => {
  await server?.close();
});

describe('mcp-admin: help and version', () => {
  it('--help at every level prints usage on stdout with the exit codes, and exits 0', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    expect(top.stderr).toBe('');
    for (const line of ['keys create', 'keys rotate ID', 'clients list', 'grants revoke GRANT_ID', 'MCP_ADMIN_URL', 'MCP_ADMIN_SECRET', '.dev.vars']) expect(top.stdout).toContain(line);
    for (const code of ['0  success', '1  server or network error', '2  usage error', '3  authentication failure', '4  not found']) expect(top.stdout).toContain(code);
    const group = cli(['keys', '--help']);
    expect(group.status).toBe(0);
    expect(group.stdout).toContain('keys revoke ID');
    expect(group.stdout).not.toContain('clients list');
    const command = cli(['keys', 'create', '--help']);
    expect(command.status).toBe(0);
    for (const text of ['--agent NAME', '--owner USER', '--expires', '--rate', '60/min', '--tool-rate', 'cannot be shown again', '3  authentication failure']) expect(command.stdout).toContain(text);
    expect(cli(['-h']).stdout).toBe(top.stdout);
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = cli(['--version']);
    expect(run).toEqual({ status: 0, stdout: `mcp-admin ${pkg.version}\n`, stderr: '' });
  });

  it('knows exactly the scopes the server supports', async () => {
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource`)).json()) as { scopes_supported: string[] };
    const listed = /--scopes LIST\s+comma separated, from: (.+)/.exec(cli(['keys', 'create', '--help']).stdout)?.[1];
    expect(listed?.split(', ')).toEqual(metadata.scopes_supported);
  });
});

describe('mcp-admin keys', () => {
  it('create prints the key once with a warning and a summary, and the key opens an MCP session', async () => {
    const before = listKeys().length;
    const run = cli(['keys', 'create', '--agent', 'Nightly report', '--owner', 'you@example.com', '--scopes', 'support:read', '--expires', '30d', '--rate', '60/min', '--tool-rate', 'sql_select=5/min']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const keys = printedKeys(run.stdout);
    expect(keys).toHaveLength(1);
    const key = keys[0] ?? '';
    expect(run.stdout).toContain('cannot be shown again');
    for (const text of ['"Nightly report" (nightly-report)', 'you@example.com', 'support:read', '60/min', 'sql_select 5/min', 'Authorization: Bearer <key>']) expect(run.stdout).toContain(text);
    expect(run.stdout).not.toContain(server.adminSecret);
    expect(listKeys()).toHaveLength(before + 1);

    await expectAccepted(key);
    // The use is attributed to the key: its own record has the last use.
    const shown = showKey(key.slice(5, 48));
    expect(shown).toMatchObject({ agent_name: 'Nightly report', agent_id: 'nightly-report', owner: 'you@example.com', scopes: ['support:read'], status: 'active' });
    expect(Date.parse(shown.expires_at) - Date.parse(shown.created_at)).toBe(30 * 86_400_000);
    expect(shown.last_used_at).not.toBeNull();
  });

  it('create --json prints the API JSON, with the key and the parsed limits', async () => {
    const run = cli(['keys', 'create', '--agent', 'JSON agent', '--agent-id', 'json-agent.1', '--owner', 'u-42', '--scopes', 'support:read,sql:read', '--expires', '12h', '--rate', '10/s', '--tool-rate', 'sql_select=100/3600', '--tool-rate', 'support_report=2/90m', '--json']);
    expect(run.status).toBe(0);
    const created = JSON.parse(run.stdout) as KeySummary & { key: string };
    expect(created.key).toMatch(/^mcpk_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    expect(created.key.slice(5, 48)).toBe(created.key_id);
    expect(created).toMatchObject({
      agent_id: 'json-agent.1',
      agent_name: 'JSON agent',
      owner: 'u-42',
      scopes: ['support:read', 'sql:read'],
      status: 'active',
      last_used_at: null,
      revoked_at: null,
      rate_limit: { requests: 10, per_seconds: 1 },
      tool_limits: { sql_select: { requests: 100, per_seconds: 3600 }, support_report: { requests: 2, per_seconds: 5400 } },
    });
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(12 * 3_600_000);
    await expectAccepted(created.key);
  });

  it('list prints a table with shortened ids, and --json has the key without any secret', () => {
    const created = createKey('Listed agent');
    const secret = created.key.split('.')[1] ?? '';
    const table = cli(['keys', 'list']);
    expect(table.status).toBe(0);
    expect(table.stderr).toBe('');
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['KEY ID', 'AGENT', 'OWNER', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED']);
    const row = rows.find((r) => r.startsWith(`${created.key_id.slice(0, 12)}…`));
    expect(row?.split(/\s{2,}/)).toEqual([`${created.key_id.slice(0, 12)}…`, 'Listed agent', 'ops@example.com', 'support:read', 'active', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/), 'never']);
    expect(table.stdout).not.toContain('mcpk_');
    expect(table.stdout).not.toContain(secret);

    const json = cli(['keys', 'list', '--json']);
    expect(json.status).toBe(0);
    expect(json.stdout).not.toContain(secret);
    expect(json.stdout).not.toContain('mcpk_');
    const listed = (JSON.parse(json.stdout) as { keys: Array<Record<string, unknown>> }).keys.find((k) => k.key_id === created.key_id);
    expect(listed).toMatchObject({ agent_name: 'Listed agent', owner: 'ops@example.com', status: 'active' });
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('secrets');
  });

  it('show prints one key by its id or by the prefix the list shows; an unknown id exits 4', () => {
    const created = createKey('Shown agent', ['--tool-rate', 'sql_select=5/min']);
    const byId = cli(['keys', 'show', created.key_id]);
    expect(byId.status).toBe(0);
    expect(byId.stderr).toBe('');
    for (const text of [created.key_id, 'Shown agent (shown-agent)', 'ops@example.com', 'active', '60/min', 'sql_select 5/min', 'current']) expect(byId.stdout).toContain(text);
    expect(byId.stdout).not.toContain('mcpk_');
    expect(cli(['keys', 'show', `${created.key_id.slice(0, 12)}…`])).toEqual(byId);

    const json = showKey(created.key_id);
    expect(json).not.toHaveProperty('key');
    expect(json.secrets).toEqual([{ created_at: created.created_at, retires_at: null }]);
    expect(JSON.stringify(json)).not.toContain(created.key.split('.')[1]);

    expectFailure(cli(['keys', 'show', `A${randomBytes(32).toString('base64url').slice(1)}`]), 4, 'not found: no such key');
    expectFailure(cli(['keys', 'show', 'zzzz-not-a-prefix']), 4, "not found: no key id starts with 'zzzz-not-a-prefix'");
  });

  it('rotate prints the new key once; the old key works inside the overlap, and with --overlap 0s is refused at once', async () => {
    const created = createKey('Rotated agent');
    const rotated = cli(['keys', 'rotate', created.key_id, '--overlap', '1h']);
    expect(rotated.stderr).toBe('');
    expect(rotated.status).toBe(0);
    const keys = printedKeys(rotated.stdout);
    expect(keys).toHaveLength(1);
    const second = keys[0] ?? '';
    expect(second).not.toBe(created.key);
    expect(second.slice(5, 48)).toBe(created.key_id);
    expect(rotated.stdout).toContain('cannot be shown again');
    expect(rotated.stdout).toMatch(/The old key keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC, then gets 401\./);
    await expectAccepted(second);
    await expectAccepted(created.key);
    const secrets = showKey(created.key_id).secrets ?? [];
    expect(secrets).toHaveLength(2);
    const retiresIn = Date.parse(secrets[0]?.retires_at ?? '') - Date.now();
    expect(retiresIn).toBeGreaterThan(3_500_000);
    expect(retiresIn).toBeLessThanOrEqual(3_600_000);
    expect(secrets[1]?.retires_at).toBeNull();

    const again = cli(['keys', 'rotate', created.key_id, '--overlap', '0s', '--json']);
    expect(again.status).toBe(0);
    const third = JSON.parse(again.stdout) as { key: string; key_id: string; previous_retires_at: string };
    expect(third.key_id).toBe(created.key_id);
    expect(Date.parse(third.previous_retires_at)).toBeLessThanOrEqual(Date.now());
    await expectRefused(second);
    await expectRefused(created.key);
    await expectAccepted(third.key);
  });

  it('revoke: the next request with the key gets 401, even in an open session; rotating it afterwards exits 1', async () => {
    const created = createKey('Revoked agent');
    const sessionId = await expectAccepted(created.key);
    const revoked = cli(['keys', 'revoke', `${created.key_id.slice(0, 12)}…`]);
    expect(revoked.stderr).toBe('');
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toBe(`Revoked key ${created.key_id} (agent "Revoked agent", owner ops@example.com): its next request gets 401.\n`);

    const inSession = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${created.key}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(inSession.status).toBe(401);
    expect(await inSession.text()).not.toContain('find_customers');
    await expectRefused(created.key);
    const shown = showKey(created.key_id);
    expect(shown.status).toBe('revoked');
    expect(shown.revoked_at).toMatch(/^\d{4}-/);
    expect(cli(['keys', 'list']).stdout.split('\n').find((r) => r.startsWith(created.key_id.slice(0, 12)))).toMatch(/ revoked /);

    expectFailure(cli(['keys', 'rotate', created.key_id]), 1, 'the server refused: the key is revoked (409)');
    await expectRefused(created.key);
  });
});

describe('mcp-admin clients and grants', () => {
  it('clients list shows registered clients, without secrets', async () => {
    const client = await registerClient(server.url, FETCHERS, { client_name: 'CLI listed client', token_endpoint_auth_method: 'client_secret_basic' });
    expect(client.clientSecret).toBeTruthy();
    const table = cli(['clients', 'list']);
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]?.split(/\s{2,}/)).toEqual(['CLIENT ID', 'NAME', 'SOURCE', 'AUTH', 'GRANT TYPES', 'CREATED']);
    const row = table.stdout.split('\n').find((r) => r.startsWith(client.clientId));
    expect(row).toContain('CLI listed client');
    expect(row).toContain('client_secret_basic');
    expect(table.stdout).not.toContain(client.clientSecret);
    const json = cli(['clients', 'list', '--json']);
    expect(json.status).toBe(0);
    expect(json.stdout).not.toContain(client.clientSecret);
    const clients = (JSON.parse(json.stdout) as { clients: Array<Record<string, unknown>> }).clients;
    expect(clients.find((c) => c.client_id === client.clientId)).toMatchObject({ client_name: 'CLI listed client', token_endpoint_auth_method: 'client_secret_basic' });
  });

  it("grants revoke ends a user's grant (its refresh token is refused); an unknown grant exits 4", async () => {
    const user = await signIn(server.url, FETCHERS);
    const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { gid: string };
    const revoked = cli(['grants', 'revoke', claims.gid]);
    expect(revoked.stderr).toBe('');
    expect(revoked).toMatchObject({ status: 0, stdout: `Revoked grant ${claims.gid}: its tokens are refused from their next request.\n` });
    const refresh = await tokenRequest(server.url, FETCHERS, { grant_type: 'refresh_token', refresh_token: user.refreshToken, client_id: user.clientId });
    expect(refresh.status).toBe(400);
    expect(refresh.body).toMatchObject({ error: 'invalid_grant' });
    expect(refresh.body).not.toHaveProperty('access_token');

    expectFailure(cli(['grants', 'revoke', claims.gid]), 4, 'not found: no live grant with that id');
    expectFailure(cli(['grants', 'revoke', `A${randomBytes(32).toString('base64url').slice(1)}`]), 4, 'not found: no such grant');
  });
});

describe('mcp-admin refusals', () => {
  it('a wrong admin secret exits 3, creates nothing and never prints the secret', () => {
    const before = listKeys();
    const wrong = `wrong-${randomBytes(24).toString('base64url')}`;
    const run = cli(['keys', 'create', '--agent', 'Intruder', '--owner', 'mallory', '--scopes', 'sql:read'], { env: { MCP_ADMIN_SECRET: wrong } });
    expectFailure(run, 3, 'authentication failed: the server refused the admin secret from MCP_ADMIN_SECRET (401');
    expect(run.stderr).not.toContain(wrong);
    expect(listKeys()).toEqual(before);
    // --admin-secret wins over the environment.
    const flagged = cli(['keys', 'list', '--json', '--admin-secret', server.adminSecret], { env: { MCP_ADMIN_SECRET: wrong } });
    expect(flagged.status).toBe(0);
    expect((JSON.parse(flagged.stdout) as { keys: unknown[] }).keys).toEqual(before);
  });

  it('without a secret it exits 3 saying so; ADMIN_SECRET in ./.dev.vars is used when nothing else is set', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-admin-'));
    try {
      const missing = cli(['keys', 'list'], { cwd: dir, env: { MCP_ADMIN_SECRET: undefined } });
      expectFailure(missing, 3, 'the admin secret is missing: set MCP_ADMIN_SECRET');
      writeFileSync(path.join(dir, '.dev.vars'), `# local\nID_SECRET=unrelated\nADMIN_SECRET="${server.adminSecret}"\n`);
      const fromFile = cli(['keys', 'list', '--json'], { cwd: dir, env: { MCP_ADMIN_SECRET: undefined } });
      expect(fromFile.stderr).toBe('');
      expect(fromFile.status).toBe(0);
      expect((JSON.parse(fromFile.stdout) as { keys: unknown[] }).keys).toEqual(listKeys());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage errors exit 2 naming the problem and pointing to --help, before any request is made', async () => {
    const before = listKeys();
    const closed = `http://127.0.0.1:${(await freePort())}`;
    const create = ['keys', 'create', '--agent', 'Bad', '--owner', 'o@example.com', '--scopes', 'support:read'];
    const cases: Array<[string[], string]> = [
      [['keys', 'frobnicate'], "unknown command 'keys frobnicate'"],
      [['frobnicate'], "unknown command 'frobnicate'"],
      [['keys'], 'missing keys command'],
      [['keys', 'create', '--agent', 'Bad', '--scopes', 'support:read'], 'missing --owner'],
      [[...create, '--rate', '5 per min'], "--rate: '5 per min' is not a rate; use REQUESTS/PERIOD"],
      [[...create, '--rate', '0/min'], "--rate: '0/min': requests must be 1 to 1000000"],
      [['keys', 'create', '--agent', 'Bad', '--owner', 'o', '--scopes', 'support:read,admin:write'], "--scopes: unknown scope 'admin:write'; known scopes: support:read, sql:read"],
      [[...create, '--expires', '30x'], "--expires: '30x' is not a duration"],
      [[...create, '--expires', '10s'], "--expires: '10s' is out of range"],
      [[...create, '--tool-rate', 'sql_select'], "--tool-rate: 'sql_select' is not TOOL=RATE"],
      [[...create, '--owner'], '--owner needs a value'],
      [['keys', 'list', '--bogus'], "unknown option '--bogus'"],
      [['keys', 'list', '--owner', 'x'], 'keys list has no option --owner'],
      [['keys', 'show'], 'missing ID'],
      [['keys', 'rotate', 'abcdef', '--overlap', '8d'], "--overlap: '8d' is out of range (0s to 7d)"],
      [['grants', 'revoke', '../keys'], "'../keys' is not a grant id"],
      [['keys', 'list', '--url', 'ftp://example.com'], "--url: 'ftp://example.com' must be http:// or https://"],
    ];
    for (const [args, message] of cases) {
      const run = cli(args);
      expectFailure(run, 2, message);
      expect(run.stderr).toMatch(/See: mcp-admin .*--help\n$/);
      // Against a closed port it is still a usage error: the checks run before any request.
      expectFailure(cli(args, { env: { MCP_ADMIN_URL: closed } }), 2, message);
    }
    expect(listKeys()).toEqual(before);
  });

  it('a server that is down exits 1 with a network error naming the URL', async () => {
    const closed = `http://127.0.0.1:${(await freePort())}`;
    expectFailure(cli(['keys', 'list'], { env: { MCP_ADMIN_URL: closed } }), 1, `network error: could not connect to ${closed} (connection refused)`);
    const create = cli(['keys', 'create', '--agent', 'Offline', '--owner', 'o', '--scopes', 'support:read', '--json'], { env: { MCP_ADMIN_URL: closed } });
    expectFailure(create, 1, 'network error');
    expect(listKeys().some((k) => k.agent_name === 'Offline')).toBe(false);
  });
});
