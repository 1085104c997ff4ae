// mcp-admin's keys, clients and grants commands: the `keys create` body, key ids, key details and each command's run.
import { own, parseDuration, parseRate } from './args.mjs';
import { DAY, formatSeconds, out, table, when } from './format.mjs';
import { CliError, EXIT, api, usage } from './http.mjs';

/** The same strings as SCOPES in src/auth/scopes.ts (test/e2e/cli.test.ts checks they match the server's). */
export const SCOPES = ['support:read', 'sql:read'];
export const ID = /^[A-Za-z0-9_-]{43}$/;

function parseScopes(value) {
  const scopes = [...new Set(value.split(/[,\s]+/).filter((s) => s !== ''))];
  if (scopes.length === 0) throw usage('--scopes needs at least one scope');
  const unknown = scopes.filter((s) => !SCOPES.includes(s));
  if (unknown.length > 0) throw usage(`--scopes: unknown scope ${unknown.map((s) => `'${s}'`).join(', ')}; known scopes: ${SCOPES.join(', ')}`);
  return scopes;
}

export function createBody(o) {
  for (const name of ['agent', 'owner', 'scopes']) if (o[name] === undefined) throw usage(`missing --${name}`);
  if (o.agent.length > 100) throw usage('--agent: at most 100 characters');
  if (o.owner.length > 200) throw usage('--owner: at most 200 characters');
  if (o['agent-id'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(o['agent-id'])) throw usage(`--agent-id: '${o['agent-id']}' must be letters, digits, . _ - (up to 100, starting with a letter or digit)`);
  const toolLimits = new Map();
  for (const item of o['tool-rate'] ?? []) {
    const [tool, rate] = [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)];
    if (!item.includes('=') || !/^[a-z0-9_]{1,64}$/.test(tool)) throw usage(`--tool-rate: '${item}' is not TOOL=RATE (e.g. sql_select=5/min)`);
    if (toolLimits.has(tool)) throw usage(`--tool-rate: ${tool} is given twice`);
    toolLimits.set(tool, parseRate(rate, 'tool-rate'));
  }
  return {
    agent_name: o.agent,
    ...(o['agent-id'] !== undefined ? { agent_id: o['agent-id'] } : {}),
    owner: o.owner,
    scopes: parseScopes(o.scopes),
    ...(o.expires !== undefined ? { expires_in: parseDuration(o.expires, 'expires', 60, 366 * DAY) } : {}),
    ...(o.rate !== undefined ? { rate_limit: parseRate(o.rate, 'rate') } : {}),
    ...(toolLimits.size > 0 ? { tool_limits: Object.fromEntries(toolLimits) } : {}),
  };
}

/** The prefix in a shortened key id (`abcdefghijkl…`), or a usage error. */
export function keyIdPrefix(value) {
  const prefix = value.replace(/(…|\.\.\.)$/, '');
  if (!/^[A-Za-z0-9_-]{4,43}$/.test(prefix)) throw usage(`'${value}' is not a key id (43 characters, or a unique prefix of at least 4)`);
  return prefix;
}

/** A full key id from a key id or a unique prefix (the list shows `abcdefghijkl…`). */
async function resolveKeyId(ctx, value) {
  if (ID.test(value)) return value;
  const prefix = keyIdPrefix(value);
  const { keys } = await api(ctx, 'GET', 'keys');
  const matches = keys.filter((k) => k.key_id.startsWith(prefix));
  if (matches.length === 0) throw new CliError(EXIT.notFound, `not found: no key id starts with '${prefix}'`);
  if (matches.length > 1) throw usage(`'${prefix}' matches ${matches.length} keys; give more of the key id`);
  return matches[0].key_id;
}

const PERIODS = { 1: 's', 60: 'min', 3600: 'h', [DAY]: 'day' };
const rate = (r) => `${r.requests}/${own(PERIODS, r.per_seconds) ?? formatSeconds(r.per_seconds)}`;
const shortId = (id) => `${id.slice(0, 12)}…`;
const status = (k) => (k.status === 'active' && k.expires_at && Date.parse(k.expires_at) <= Date.now() ? 'expired' : k.status);

function keyDetails(k) {
  const tools = Object.entries(k.tool_limits ?? {}).map(([t, r]) => `${t} ${rate(r)}`);
  const lines = [
    ['key id', k.key_id],
    ['agent', `${k.agent_name} (${k.agent_id})`],
    ['owner', k.owner],
    ['scopes', k.scopes.join(', ')],
    ['status', status(k)],
    ['created', when(k.created_at)],
    ['expires', when(k.expires_at)],
    ['last used', when(k.last_used_at)],
    ...(k.revoked_at ? [['revoked', when(k.revoked_at)]] : []),
    ['rate', rate(k.rate_limit)],
    ['tool rates', tools.length > 0 ? tools.join(', ') : 'none'],
    ...(k.secrets ?? []).map((s, i) => [i === 0 ? 'secrets' : '', `created ${when(s.created_at)}, ${s.retires_at ? `retires ${when(s.retires_at)}` : 'current'}`]),
  ];
  return lines.map(([name, value]) => `  ${name.padEnd(11)} ${value}`).join('\n');
}

function printKeyOnce(key) {
  out(`\n  ${key}\n\nCopy this key now: it is shown only once and cannot be shown again (the server keeps only its hash).`);
}

/** How each keys, clients and grants command runs, once its command line is checked. */
export const RUN_KEYS = {
  async 'keys create'(ctx, o) {
    const created = await api(ctx, 'POST', 'keys', createBody(o));
    if (o.json) return out(JSON.stringify(created, null, 2));
    out(`Created an API key for agent "${created.agent_name}" (${created.agent_id}), owner ${created.owner}:`);
    printKeyOnce(created.key);
    out(`\n${keyDetails(created)}\n\nUse it as: Authorization: Bearer <key>`);
  },
  async 'keys list'(ctx, o) {
    const { keys } = await api(ctx, 'GET', 'keys');
    if (o.json) return out(JSON.stringify({ keys }, null, 2));
    if (keys.length === 0) return out('No API keys. Create one: mcp-admin keys create --help');
    out(table(['KEY ID', 'AGENT', 'OWNER', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED'], keys.map((k) => [shortId(k.key_id), k.agent_name, k.owner, k.scopes.join(','), status(k), when(k.expires_at), when(k.last_used_at)])));
  },
  async 'keys show'(ctx, o, [id]) {
    const shown = await api(ctx, 'GET', `keys/${await resolveKeyId(ctx, id)}`);
    out(o.json ? JSON.stringify(shown, null, 2) : keyDetails(shown));
  },
  async 'keys rotate'(ctx, o, [id]) {
    const overlap = o.overlap === undefined ? undefined : parseDuration(o.overlap, 'overlap', 0, 7 * DAY);
    const keyId = await resolveKeyId(ctx, id);
    const rotated = await api(ctx, 'POST', `keys/${keyId}/rotate`, overlap === undefined ? {} : { overlap_seconds: overlap });
    if (o.json) return out(JSON.stringify(rotated, null, 2));
    out(`Rotated key ${shortId(keyId)}; its new key:`);
    printKeyOnce(rotated.key);
    out(overlap === 0 ? '\nThe old key stopped working now (no overlap).' : `\nThe old key keeps working until ${when(rotated.previous_retires_at)}, then gets 401.`);
  },
  async 'keys revoke'(ctx, o, [id]) {
    const revoked = await api(ctx, 'POST', `keys/${await resolveKeyId(ctx, id)}/revoke`, {});
    if (o.json) return out(JSON.stringify(revoked, null, 2));
    out(`Revoked key ${revoked.key_id} (agent "${revoked.agent_name}", owner ${revoked.owner}): its next request gets 401.`);
  },
  async 'clients list'(ctx, o) {
    const { clients } = await api(ctx, 'GET', 'clients');
    if (o.json) return out(JSON.stringify({ clients }, null, 2));
    if (clients.length === 0) return out('No registered clients.');
    out(table(['CLIENT ID', 'NAME', 'SOURCE', 'AUTH', 'GRANT TYPES', 'CREATED'], clients.map((c) => [c.client_id, c.client_name ?? '-', c.source, c.token_endpoint_auth_method, c.grant_types.join(','), when(new Date(c.created_at).toISOString())])));
  },
  async 'grants revoke'(ctx, o, [gid]) {
    const revoked = await api(ctx, 'POST', `grants/${gid}/revoke`, {});
    out(o.json ? JSON.stringify(revoked, null, 2) : `Revoked grant ${revoked.grant_id}: its tokens are refused from their next request.`);
  },
};
