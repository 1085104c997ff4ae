// `npm run db:purge-audit`: deletes MySQL audit events older than AUDIT_RETENTION_DAYS (run it on a schedule with an account that may DELETE on audit_events).
import { parseArgs } from 'node:util';
import { purgeAudit } from './lib/purge-audit.mjs';
import { UsageError } from './lib/seed-mysql.mjs';

const USAGE = `Usage: npm run db:purge-audit -- [options]
       node bin/purge-audit.mjs [options]

Deletes audit events older than the retention from the MySQL audit table, in batches of 5,000
rows, oldest first. The audit writer (AUDIT_HYPERDRIVE) can only INSERT and SELECT: run this
with an account that may DELETE on audit_events (docs/audit.md, Retention), e.g. daily from cron.

Options:
  --url <url>         connection string of that account, mysql://user:pass@host:port/db
                      (or env MYSQL_AUDIT_PURGE_URL); the path names the audit database
                      (default mcp_audit)
  --days <n>          retention in days (or env AUDIT_RETENTION_DAYS; default 400)
  -h, --help          show this help

Exit codes: 0 ok, 1 database error, 2 usage error.
`;

function fail(message, code) {
  process.stderr.write(`purge-audit: ${message}\n`);
  process.exit(code);
}

let values;
try {
  ({ values } = parseArgs({ options: { url: { type: 'string' }, days: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`, 2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const url = values.url ?? process.env.MYSQL_AUDIT_PURGE_URL;
if (!url) fail('give --url or set MYSQL_AUDIT_PURGE_URL (an account that may DELETE on audit_events)', 2);
const daysText = values.days ?? process.env.AUDIT_RETENTION_DAYS ?? '400';
if (!/^[0-9]+$/.test(daysText)) fail(`--days: not a whole number: ${daysText}`, 2);
try {
  const { deleted, before } = await purgeAudit({ url, days: Number(daysText) });
  process.stdout.write(`Deleted ${deleted} audit events from before ${before} (retention ${daysText} days).\n`);
} catch (error) {
  if (error instanceof UsageError) fail(error.message, 2);
  fail(`database error: ${error instanceof Error ? error.message : String(error)}`, 1);
}
