#!/usr/bin/env node
// `npm start`: runs the server locally with wrangler dev (embedded database by default; `-- --mysql` for your MySQL).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const useMysql = argv.includes('--mysql');
const passthrough = argv.filter((a) => a !== '--mysql');
const port = process.env.PORT ?? '8787';

if (argv.includes('--help')) {
  process.stdout.write(`Usage: npm start [-- --mysql] [-- <wrangler dev options>]

Runs the MCP server at http://localhost:${port}/mcp (set PORT to change the port).
  (default)  the embedded demo database, no MySQL needed
  --mysql    your MySQL/MariaDB: set MYSQL_URL (or CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE)
             to the read-only user's mysql:// URL that \`npm run db:seed\` prints
`);
  process.exit(0);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const args = [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'dev', '--port', port];
if (useMysql) {
  const url = process.env.MYSQL_URL ?? process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE;
  if (!url) {
    process.stderr.write('npm start -- --mysql needs MYSQL_URL=mysql://user:password@host:port/database (the read-only user; see README "Use your own MySQL").\n');
    process.exit(2);
  }
  if (!/^mysql:\/\//.test(url)) {
    process.stderr.write('MYSQL_URL must start with mysql://\n');
    process.exit(2);
  }
  env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE = url;
  args.push('--env', 'mysql');
}
args.push(...passthrough);

process.stdout.write(`MCP server: http://localhost:${port}/mcp  (database: ${useMysql ? 'MySQL' : 'embedded demo data'})\n`);
process.stdout.write('Connect MCP Inspector: npx @modelcontextprotocol/inspector, transport "Streamable HTTP", URL above.\n\n');
const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
