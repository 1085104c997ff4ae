#!/usr/bin/env node
// `npm run admin`: the command-line tool over the admin API (/admin/*): API keys, OAuth clients, grants, the audit trail and the alert hub.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { own, parseArgv, parseDuration } from './admin/args.mjs';
import { AUDIT_TYPES, PAGE, RUN_AUDIT, searchPlan, tailPlan } from './admin/audit.mjs';
import { DAY, out } from './admin/format.mjs';
import { DETECTION_COMMANDS, RUN_DETECTIONS, detectionRange } from './admin/detections.mjs';
import { CliError, DEFAULT_URL, EXIT, adminSecret, baseUrl, setHelpTopic, usage } from './admin/http.mjs';
import { ID, RUN_KEYS, SCOPES, createBody, keyIdPrefix } from './admin/keys.mjs';
import { ALERT_COMMANDS, RUN_ALERTS, checkAlertCommand } from './admin/alerts.mjs';

const EXIT_HELP = `Exit codes:
  0  success
  1  server or network error (the message says which), or a change the server refused (409)
  2  usage error: unknown command or option, missing or invalid value (also a value the server rejects, 400)
  3  authentication failure: the admin secret is missing or was refused (401)
  4  not found (404): no such key, grant or endpoint`;

const AUDIT_FILTERS = `  --user ID             a person's user id (an agent's events carry its owner here)
  --agent ID            an agent's id (as \`keys show\` prints it, e.g. nightly-report)
  --tool NAME           a tool, e.g. sql_select
  --type TYPE           one of: ${AUDIT_TYPES.slice(0, 5).join(', ')},
                        ${AUDIT_TYPES.slice(5, 10).join(', ')},
                        ${AUDIT_TYPES.slice(10).join(', ')}
  --outcome OUTCOME     success, failure or denied`;

const GLOBAL_HELP = `Global options:
  --url URL           the server (env MCP_ADMIN_URL; default ${DEFAULT_URL})
  --admin-secret S    the admin credential (env MCP_ADMIN_SECRET; otherwise ADMIN_SECRET from
                      ./.dev.vars, which npm start writes). Prefer the environment: arguments show in ps.
  --json              print the API's JSON instead of text (audit: its NDJSON lines)
  --help, -h          help (also after any command)
  --version           the tool's version`;

const COMMANDS = {
  'keys create': {
    options: { agent: 'string', 'agent-id': 'string', owner: 'string', scopes: 'string', expires: 'string', rate: 'string', 'tool-rate': 'multiple' },
    args: [],
    summary: 'create an API key for an agent (the key is shown once)',
    help: `Usage: mcp-admin keys create --agent NAME --owner USER --scopes SCOPES [options]

  --agent NAME          the agent's name, as people know it ("Nightly report")
  --agent-id ID         a stable agent id (letters, digits, . _ -); default: from the name
  --owner USER          the person accountable for the key (user id or email)
  --scopes LIST         comma separated, from: ${SCOPES.join(', ')}
  --expires DURATION    lifetime: 90m, 12h, 30d or 3600s (60s to 366d; default 90d)
  --rate RATE           the key's limit: 60/min, 10/s, 1000/h, 5000/day or N/SECONDS (default 60/min)
  --tool-rate TOOL=RATE a tool's own limit, e.g. sql_select=5/min (repeatable)

Prints the key once: the server keeps only its hash, so it cannot be shown again.`,
  },
  'keys list': { options: {}, args: [], summary: 'list API keys', help: 'Usage: mcp-admin keys list [--json]\n\nKey ids are shortened; any unique prefix (as shown) works as ID in the other commands.' },
  'keys show': { options: {}, args: ['ID'], summary: "one key's details and its secrets' lifetimes", help: 'Usage: mcp-admin keys show ID [--json]\n\nID is the key id or a unique prefix of it (as `keys list` shows it).' },
  'keys rotate': {
    options: { overlap: 'string' },
    args: ['ID'],
    summary: 'issue a successor key; the old one works for an overlap',
    help: 'Usage: mcp-admin keys rotate ID [--overlap DURATION] [--json]\n\n  --overlap DURATION  how long the old key keeps working: 0s to 7d (default 1h)\n\nPrints the new key once, and when the old one stops working (then it gets 401).',
  },
  'keys revoke': { options: {}, args: ['ID'], summary: 'revoke a key: its next request gets 401', help: 'Usage: mcp-admin keys revoke ID [--json]' },
  'clients list': { options: {}, args: [], summary: 'list registered OAuth clients', help: 'Usage: mcp-admin clients list [--json]' },
  'grants revoke': { options: {}, args: ['GRANT_ID'], summary: "end a user's grant and every token of it", help: "Usage: mcp-admin grants revoke GRANT_ID [--json]\n\nGRANT_ID is the grant's id (the `gid` claim of its access tokens)." },
  'audit search': {
    options: { user: 'string', agent: 'string', tool: 'string', type: 'string', outcome: 'string', since: 'string', until: 'string', after: 'string', limit: 'string', 'page-size': 'string', format: 'string' },
    args: [],
    summary: 'search the audit trail (oldest first)',
    help: `Usage: mcp-admin audit search [filters] [--since TIME] [--until TIME] [--limit N] [--json | --format F]

${AUDIT_FILTERS}
  --since TIME          events at or after TIME: 2026-11-25T10:00:00Z, 2026-11-25T11:00:00+01:00,
                        2026-11-25 (midnight UTC), or a duration ago: 90s, 30m, 1h, 2d
  --until TIME          events before TIME (same forms)
  --after EVENT_ID      events after this event id (the cursor a previous search ended at)
  --limit N             at most N events (1 to 100000; default 100), read page by page
  --page-size N         events per request (1 to 10000; default ${PAGE})
  --format F            print NDJSON lines exactly as the server sends them: raw, ocsf or ecs
  --json                the same as --format raw

Prints a table, oldest first: TIME (UTC, without milliseconds), TYPE, OUTCOME, WHO (an agent's
name, or a person's user id shortened), TOOL and DETAIL (error code, reason, and the call's
parameters cut to 60 characters). When more events match than --limit, stderr says so and
names the id to continue from with --after.`,
  },
  'audit tail': {
    options: { user: 'string', agent: 'string', tool: 'string', type: 'string', outcome: 'string', lines: 'string', interval: 'string', 'max-events': 'string', timeout: 'string', format: 'string' },
    args: [],
    summary: 'follow the audit trail live',
    help: `Usage: mcp-admin audit tail [filters] [--interval 2s] [--lines N] [--max-events N] [--timeout T] [--json | --format F]

${AUDIT_FILTERS}
  --lines N             first print the last N events of the past 30 days (0 to 1000; default 10)
  --interval DURATION   how often to ask for new events: 1s to 1h (default 2s)
  --max-events N        stop after N new events (the first --lines events do not count)
  --timeout DURATION    stop after this long (1s to 7d), whether or not events came
  --format F            print NDJSON lines exactly as the server sends them: raw, ocsf or ecs
  --json                the same as --format raw

Prints events as they reach the audit store (about a second after they happen), until Ctrl-C.
Ctrl-C, --max-events and --timeout all end it with exit code 0. It follows the delivery
order (the export's delivery cursor), so an event delivered late with an older time (events from
different parts of the server arrive in their own batches; an outbox waits out a store outage)
is still printed, once. Its own reads of the trail (recorded as admin.read) are not printed.`,
  },
  ...DETECTION_COMMANDS,
  ...ALERT_COMMANDS,
};
const GLOBAL_OPTIONS = { url: 'string', 'admin-secret': 'string', json: 'boolean', help: 'boolean', version: 'boolean' };
const GROUPS = ['keys', 'clients', 'grants', 'audit', 'detections', 'alerts'];
/** Every option any command knows, with its kind. */
const KNOWN_OPTIONS = { ...GLOBAL_OPTIONS, ...Object.assign({}, ...Object.values(COMMANDS).map((c) => c.options)) };
const RUN = { ...RUN_KEYS, ...RUN_AUDIT, ...RUN_DETECTIONS, ...RUN_ALERTS };

/** The help of every command, or of one group's commands. */
function listHelp(group) {
  const lines = Object.entries(COMMANDS)
    .filter(([name]) => group === undefined || name.startsWith(`${group} `))
    .map(([name, c]) => `  ${`${name} ${c.args.join(' ')}`.padEnd(24)}${c.summary}`);
  const intro = group === undefined ? "mcp-admin: manage the MCP server's API keys, clients and grants, and read its audit trail, through its admin API.\n\nUsage: mcp-admin COMMAND [options]     (npm run admin -- COMMAND [options])" : `Usage: mcp-admin ${group} COMMAND [options]`;
  return `${intro}\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\n${EXIT_HELP}`;
}

/** Points usage errors at the most specific help known so far. */
function noteCommand([group, action]) {
  if (GROUPS.includes(group)) setHelpTopic(own(COMMANDS, `${group} ${action}`) ? `${group} ${action}` : group);
}

async function main(argv) {
  const { positionals, options } = parseArgv(argv, KNOWN_OPTIONS, noteCommand);
  if (options.version) {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8'));
    return out(`mcp-admin ${pkg.version}`);
  }
  const [group, action, ...args] = positionals;
  if (group === undefined) {
    if (options.help) return out(listHelp());
    throw usage('missing command (keys, clients, grants, audit or alerts)');
  }
  if (!GROUPS.includes(group)) throw usage(`unknown command '${group}' (keys, clients, grants, audit or alerts)`);
  const actions = Object.keys(COMMANDS).filter((c) => c.startsWith(`${group} `)).map((c) => c.split(' ')[1]);
  if (action === undefined) {
    if (options.help) return out(listHelp(group));
    throw usage(`missing ${group} command (${actions.join(', ')})`);
  }
  const name = `${group} ${action}`;
  const command = own(COMMANDS, name);
  if (!command) throw usage(`unknown command '${name}' (${group} commands: ${actions.join(', ')})`);
  if (options.help) return out(`${command.help}\n\n${GLOBAL_HELP}\n\n${EXIT_HELP}`);
  for (const option of Object.keys(options)) if (!own(GLOBAL_OPTIONS, option) && !own(command.options, option)) throw usage(`${name} has no option --${option}`);
  if (args.length < command.args.length) throw usage(`missing ${command.args[args.length]}`);
  if (args.length > command.args.length) throw usage(`unexpected argument '${args[command.args.length]}' (quote a value that has spaces)`);
  const base = baseUrl(options);
  // Usage errors are found before any request, so the checks below run only on well-formed commands.
  if (name === 'keys create') createBody(options);
  if (command.args[0] === 'ID') keyIdPrefix(args[0]);
  if (name === 'grants revoke' && !ID.test(args[0])) throw usage(`'${args[0]}' is not a grant id (43 characters: letters, digits, - and _)`);
  if (name === 'keys rotate' && options.overlap !== undefined) parseDuration(options.overlap, 'overlap', 0, 7 * DAY);
  if (name === 'audit search') searchPlan(options, Date.now());
  if (name === 'audit tail') tailPlan(options);
  if (name === 'detections test') detectionRange(options, Date.now());
  if (name.startsWith('alerts ')) checkAlertCommand(name, options, args);
  const ctx = { base, ...adminSecret(options) };
  await RUN[name](ctx, options, args);
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error) => process.exit(error.code === 'EPIPE' ? (process.exitCode ?? 0) : EXIT.server));
try {
  await main(process.argv.slice(2));
  process.exitCode = EXIT.ok;
} catch (error) {
  const known = error instanceof CliError;
  process.stderr.write(`mcp-admin: ${known ? '' : 'unexpected error: '}${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = known ? error.exit : EXIT.server;
}
