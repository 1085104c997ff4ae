// `npm run db:seed`: creates the demo schema and rows in MySQL/MariaDB and a SELECT-only user for Hyperdrive.
import { parseArgs } from 'node:util';
import { UsageError, seedAudit, seedMysql } from './lib/seed-mysql.mjs';

const USAGE = `Usage: npm run db:seed -- [options]
       node bin/seed.mjs [options]

Creates the database (if missing), the demo tables and rows (idempotent: safe to re-run),
and a read-only user granted only SELECT on that database.

Options:
  --admin-url <url>        admin connection string, mysql://user:pass@host:port/db
                           (or env MYSQL_ADMIN_URL); the path names the database to seed
  --database <name>        database to seed instead of the URL's path
  --reader-user <name>     read-only user to create (default: mcp_reader)
  --reader-password <pw>   its password (or env MYSQL_READER_PASSWORD; prefer the env var,
                           command lines are visible to other local users); required
                           when the user does not exist yet
  --reader-host <host>     host part of the reader account (default: %)
  --audit-password <pw>    also create the audit database mcp_audit and its writer mcp_audit (or env MYSQL_AUDIT_PASSWORD)
  -h, --help               show this help

Exit codes: 0 ok, 1 database error, 2 usage error.
`;

/**
 * Prints a usage error (with the full usage text if asked) and exits with code 2.
 * @param {string} message
 * @param {boolean} [full]
 * @returns {never}
 */
function usageError(message, full = false) {
  process.stderr.write(`db:seed: ${message}\n${full ? `\n${USAGE}` : 'Run with --help for usage.\n'}`);
  process.exit(2);
}

/**
 * The admin URL's password, for redaction ('' if the URL does not parse).
 * @param {string} url
 */
function adminPassword(url) {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/** Entry point: parses options, seeds, prints the Hyperdrive connection string with the password masked. */
async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        'admin-url': { type: 'string' },
        database: { type: 'string' },
        'reader-user': { type: 'string', default: 'mcp_reader' },
        'reader-password': { type: 'string' },
        'reader-host': { type: 'string', default: '%' },
        'audit-password': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usageError(/** @type {Error} */ (error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const adminUrl = values['admin-url'] || process.env.MYSQL_ADMIN_URL;
  if (!adminUrl) return usageError('no admin connection string: pass --admin-url mysql://user:pass@host:port/db or set MYSQL_ADMIN_URL', true);
  const readerPassword = values['reader-password'] || process.env.MYSQL_READER_PASSWORD || undefined;
  const auditPassword = values['audit-password'] || process.env.MYSQL_AUDIT_PASSWORD || undefined;

  try {
    const result = await seedMysql({
      adminUrl,
      database: values.database,
      readerUser: values['reader-user'],
      readerPassword,
      readerHost: values['reader-host'],
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(
      `\nDone. Connection string for the Hyperdrive binding (read-only user; put in the real password):\n  ${result.maskedReaderUrl}\n` +
        `e.g. npx wrangler hyperdrive create mcp-db --connection-string '${result.maskedReaderUrl}'\n`,
    );
    if (auditPassword) {
      const audit = await seedAudit({ adminUrl, writerPassword: auditPassword });
      const masked = audit.writerUrl.replace(/:[^:@/]*@/, ':***@');
      process.stdout.write(`\nAudit database mcp_audit, writer mcp_audit (INSERT and SELECT on audit_events only):\n  ${masked}\n(the AUDIT_HYPERDRIVE binding; locally MYSQL_AUDIT_URL for npm start -- --mysql)\n`);
    }
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message);
    const e = /** @type {any} */ (error);
    const code = [e?.code, e?.errno].filter((part) => part !== undefined && part !== null).join(' / ');
    let message = e?.message || (Array.isArray(e?.errors) ? e.errors.map((/** @type {Error} */ inner) => inner.message).join('; ') : String(error));
    // A server message may quote SQL text; never echo a password.
    for (const secret of [readerPassword, auditPassword, adminPassword(adminUrl)]) {
      if (secret) message = message.split(secret).join('***');
    }
    process.stderr.write(`db:seed: database error: ${message}${code ? ` (code ${code})` : ''}\n`);
    process.exitCode = 1;
  }
}

await main();
