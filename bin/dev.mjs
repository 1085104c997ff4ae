#!/usr/bin/env node
// `npm start`: runs the server locally with wrangler dev, plus a local OpenID provider to sign in with (embedded database by default; `-- --mysql` for your MySQL).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdSecret, generateSigningKey } from './lib/keys.mjs';
import { startIdp } from '../test/support/idp.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEV_VARS = path.join(ROOT, '.dev.vars');
const argv = process.argv.slice(2);
const useMysql = argv.includes('--mysql');
const passthrough = argv.filter((a) => a !== '--mysql');
const port = process.env.PORT ?? '8787';
const idpPort = Number(process.env.IDP_PORT ?? '8788');

if (argv.includes('--help')) {
  process.stdout.write(`Usage: npm start [-- --mysql] [-- <wrangler dev options>]

Runs the MCP server at http://localhost:${port}/mcp (PORT changes the port) and, unless .dev.vars
names another UPSTREAM_ISSUER, a local OpenID provider at http://127.0.0.1:${idpPort} (IDP_PORT) to sign in
with any user name. The first run writes .dev.vars (a signing key and the local provider's client).
  (default)  the embedded demo database, no MySQL needed
  --mysql    your MySQL/MariaDB: set MYSQL_URL (or CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE)
             to the read-only user's mysql:// URL that \`npm run db:seed\` prints
`);
  process.exit(0);
}

/** Reads .dev.vars (KEY=value lines; a value may be quoted). */
function readDevVars() {
  const vars = {};
  if (!existsSync(DEV_VARS)) return vars;
  for (const line of readFileSync(DEV_VARS, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}

/** Writes a first .dev.vars: a fresh signing key and the local provider's client. Never committed (.gitignore). */
async function ensureDevVars() {
  if (existsSync(DEV_VARS)) {
    // Settings added by later versions are appended to an existing file.
    for (const name of ['ID_SECRET', 'ADMIN_SECRET']) {
      const text = readFileSync(DEV_VARS, 'utf8');
      if (!new RegExp(`^${name}=`, 'm').test(text)) writeFileSync(DEV_VARS, `${text.replace(/\n?$/, '\n')}${name}=${generateIdSecret()}\n`);
    }
    return;
  }
  const lines = [
    '# Local secrets for `npm start` (wrangler dev reads this file). Not committed.',
    '# To sign in with Google instead, set UPSTREAM_ISSUER=https://accounts.google.com and your client id/secret.',
    `OAUTH_SIGNING_KEY='${await generateSigningKey()}'`,
    `ID_SECRET=${generateIdSecret()}`,
    '# The admin API credential (npm run admin uses it): keep it secret.',
    `ADMIN_SECRET=${generateIdSecret()}`,
    `UPSTREAM_ISSUER=http://127.0.0.1:${idpPort}`,
    'UPSTREAM_CLIENT_ID=local-mcp',
    `UPSTREAM_CLIENT_SECRET=${randomBytes(24).toString('base64url')}`,
    '',
  ];
  writeFileSync(DEV_VARS, lines.join('\n'), { mode: 0o600 });
  process.stdout.write('Wrote .dev.vars (signing key and local sign-in settings).\n');
}

/**
 * Points .dev.vars at this run's local provider: a file written with another IDP_PORT would
 * otherwise send sign-ins to a provider that is not running. Only the local provider's issuer
 * (its client is `local-mcp`) is rewritten; an upstream such as Google is left alone.
 */
function followIdpPort(vars) {
  const local = vars.UPSTREAM_CLIENT_ID === 'local-mcp' && /^http:\/\/127\.0\.0\.1:\d+$/.test(vars.UPSTREAM_ISSUER ?? '');
  const issuer = `http://127.0.0.1:${idpPort}`;
  if (!local || vars.UPSTREAM_ISSUER === issuer) return vars;
  const text = readFileSync(DEV_VARS, 'utf8').replace(/^\s*UPSTREAM_ISSUER\s*=.*$/m, `UPSTREAM_ISSUER=${issuer}`);
  writeFileSync(DEV_VARS, text, { mode: 0o600 });
  process.stdout.write(`.dev.vars: the local provider moved from ${vars.UPSTREAM_ISSUER} to ${issuer} (IDP_PORT).\n`);
  return { ...vars, UPSTREAM_ISSUER: issuer };
}

await ensureDevVars();
const vars = followIdpPort(readDevVars());
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const args = [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--port', port];
if (useMysql) {
  const url = process.env.MYSQL_URL ?? process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE;
  if (!url || !/^mysql:\/\//.test(url)) {
    process.stderr.write('npm start -- --mysql needs MYSQL_URL=mysql://user:password@host:port/database (the read-only user; see README "Use your own MySQL").\n');
    process.exit(2);
  }
  env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = url;
  const audit = process.env.MYSQL_AUDIT_URL ?? process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_AUDIT_HYPERDRIVE;
  if (!audit || !/^mysql:\/\//.test(audit)) {
    process.stderr.write('npm start -- --mysql also needs MYSQL_AUDIT_URL=mysql://mcp_audit:password@host:port/mcp_audit (the audit writer; `npm run db:seed -- --audit-password …` creates it).\n');
    process.exit(2);
  }
  env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_AUDIT_HYPERDRIVE = audit;
  args.push('--env', 'mysql');
}
args.push(...passthrough);

let idp;
if (vars.UPSTREAM_ISSUER === `http://127.0.0.1:${idpPort}`) {
  try {
    idp = await startIdp({
      port: idpPort,
      clients: [{ client_id: vars.UPSTREAM_CLIENT_ID, client_secret: vars.UPSTREAM_CLIENT_SECRET, redirect_uris: [`http://localhost:${port}/oauth/callback`, `http://127.0.0.1:${port}/oauth/callback`] }],
    });
  } catch (error) {
    process.stderr.write(`Could not start the local OpenID provider on port ${idpPort}: ${error.message}\nSet IDP_PORT to a free port (and UPSTREAM_ISSUER in .dev.vars to match).\n`);
    process.exit(1);
  }
}

process.stdout.write(`MCP server: http://localhost:${port}/mcp  (database: ${useMysql ? 'MySQL' : 'embedded demo data'})\n`);
process.stdout.write(idp ? `Sign-in: local OpenID provider at ${idp.issuer} (any user name, any password)\n` : `Sign-in: ${vars.UPSTREAM_ISSUER ?? 'https://accounts.google.com'}\n`);
process.stdout.write('Connect MCP Inspector 2.x (needs Node 22.19 or later): npx @modelcontextprotocol/inspector, then Add Servers → Add manually → streamable-http → the URL above → Add, and the connect switch.\n\n');
const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
const stop = async (signal) => {
  child.kill(signal);
  await idp?.stop();
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop(signal));
child.on('exit', async (code, signal) => {
  await idp?.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
