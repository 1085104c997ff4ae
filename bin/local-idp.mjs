#!/usr/bin/env node
// A local OpenID Connect provider standing in for Google during development (see test/support/idp.mjs).
import { startIdp } from '../test/support/idp.mjs';

const USAGE = `Usage: node bin/local-idp.mjs --client-id <id> --client-secret <secret> --redirect-uri <url> [--redirect-uri <url> …] [--port <port>] [--quiet]

Runs a local OpenID provider at http://127.0.0.1:<port> (default port 8788) with one confidential client
(authorization code flow, PKCE S256 required, client_secret_basic or client_secret_post).
Any login name works on its sign-in page (sub "user-<login>", email "<login>@example.test"); the password is ignored.
Stops on Ctrl-C (SIGINT) or SIGTERM.

  --port <port>            port to listen on, 0 for any free port (default 8788)
  --client-id <id>         the client's client_id
  --client-secret <secret> the client's client_secret
  --redirect-uri <url>     an allowed redirect_uri (repeat for several), e.g. http://localhost:8787/oauth/callback
  --quiet                  do not print the errors the provider sends to clients (server errors are always printed)
  --help                   show this help

Example:
  node bin/local-idp.mjs --port 8788 --client-id local-mcp --client-secret dev-secret \\
    --redirect-uri http://localhost:8787/oauth/callback
`;

/** @param {string} message */
function usageError(message) {
  process.stderr.write(`local-idp: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}

/**
 * Parses the command line (`--name value` or `--name=value`).
 * @param {string[]} argv
 * @returns {{ port: number, clientId: string, clientSecret: string, redirectUris: string[], quiet: boolean }}
 */
function parseArgs(argv) {
  /** @type {{ port?: string, clientId?: string, clientSecret?: string, redirectUris: string[], quiet: boolean }} */
  const raw = { redirectUris: [], quiet: false };
  const valued = { '--port': 'port', '--client-id': 'clientId', '--client-secret': 'clientSecret', '--redirect-uri': 'redirectUris' };
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    if (arg === '--quiet') {
      raw.quiet = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const key = /** @type {Record<string, string>} */ (valued)[name];
    if (!key) usageError(`unknown argument ${JSON.stringify(arg)}`);
    let value;
    if (name !== arg) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined || value.startsWith('--')) usageError(`${name} needs a value`);
    }
    if (key === 'redirectUris') raw.redirectUris.push(/** @type {string} */ (value));
    else if (/** @type {Record<string, unknown>} */ (raw)[key] !== undefined) usageError(`${name} given twice`);
    else /** @type {Record<string, unknown>} */ (raw)[key] = value;
  }

  const port = raw.port === undefined ? 8788 : Number(raw.port);
  if (!/^\d+$/.test(raw.port ?? '8788') || !Number.isInteger(port) || port > 65535) usageError(`--port must be an integer from 0 to 65535, not ${JSON.stringify(raw.port)}`);
  if (!raw.clientId) usageError('--client-id is required');
  if (!raw.clientSecret) usageError('--client-secret is required');
  if (raw.redirectUris.length === 0) usageError('at least one --redirect-uri is required');
  for (const uri of raw.redirectUris) {
    const url = URL.parse(uri);
    if (!url || !/^https?:$/.test(url.protocol) || url.hash) usageError(`--redirect-uri must be an absolute http(s) URL without a fragment, not ${JSON.stringify(uri)}`);
  }
  return { port, clientId: raw.clientId, clientSecret: raw.clientSecret, redirectUris: raw.redirectUris, quiet: raw.quiet };
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const options = parseArgs(argv);

let idp;
try {
  idp = await startIdp({
    port: options.port,
    clients: [{ client_id: options.clientId, client_secret: options.clientSecret, redirect_uris: options.redirectUris }],
    verbose: !options.quiet,
  });
} catch (error) {
  const err = /** @type {NodeJS.ErrnoException} */ (error);
  process.stderr.write(`local-idp: could not start: ${err.code === 'EADDRINUSE' ? `port ${options.port} is already in use` : err.message}\n`);
  process.exit(1);
}

process.stdout.write(`local OpenID provider: ${idp.issuer}
  discovery:     ${idp.issuer}/.well-known/openid-configuration
  client_id:     ${options.clientId}
  redirect_uris: ${options.redirectUris.join(' ')}
  sign in with any login name (the password is ignored); Ctrl-C stops it
`);

let stopping = false;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    idp.stop().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`local-idp: stop failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  });
}
