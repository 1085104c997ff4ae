// Retention of the MySQL audit table against the real MariaDB: the writer cannot delete, `npm run db:purge-audit` (with an account that may) removes what is past AUDIT_RETENTION_DAYS, in batches, and keeps the rest.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import { formatMysqlUrl, parseMysqlUrl, purgeAudit, seedNamedAuditDb } from '../support/mariadb.mjs';
import { auditRow } from '../../src/db/audit-port.ts';
import type { AuditEvent } from '../../src/audit/event.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = 86_400_000;
const suffix = randomBytes(4).toString('hex');
const database = `audit_retention_${suffix}`;
const writerUser = `audit_ret_${suffix}`;

let admin: Connection;
let writer: Connection;
let purgeUrl = '';

function event(n: number, ms: number): AuditEvent {
  return { v: 1, id: `0${String(n).padStart(5, '0')}${'0'.repeat(20)}`, time: new Date(ms).toISOString(), type: 'tool.call', outcome: 'success', actor: { user_id: 'u_retention' }, tool: 'get_customer' };
}

async function insert(events: AuditEvent[]): Promise<void> {
  await writer.query('INSERT IGNORE INTO audit_events (id, time, type, outcome, user_id, agent_id, key_id, client_id, grant_id, session_id, tool, event) VALUES ?', [events.map((e) => [...auditRow(e)])]);
}

async function ids(): Promise<string[]> {
  const [rows] = await admin.query<RowDataPacket[]>('SELECT id FROM audit_events ORDER BY id');
  return rows.map((r) => String(r.id));
}

beforeAll(async () => {
  const adminUrl = process.env.TEST_MYSQL_ADMIN_URL;
  if (!adminUrl) throw new Error('TEST_MYSQL_ADMIN_URL must be set: run the tests with `npm test`, which starts MariaDB');
  const { writerUrl } = await seedNamedAuditDb({ adminUrl, database, writerUser });
  const a = parseMysqlUrl(adminUrl);
  admin = await mysql.createConnection({ host: a.host, port: a.port, user: a.user, password: a.password, database });
  const w = parseMysqlUrl(writerUrl);
  writer = await mysql.createConnection({ host: w.host, port: w.port, user: w.user, password: w.password, database });
  purgeUrl = formatMysqlUrl({ ...a, database });
});

afterAll(async () => {
  await writer?.end();
  await admin?.query(`DROP DATABASE IF EXISTS ${mysql.escapeId(database)}`);
  await admin?.query('DROP USER IF EXISTS ?@?', [writerUser, '%']);
  await admin?.end();
});

describe('audit retention on MySQL', () => {
  it('the audit writer cannot delete: purging needs another account', async () => {
    await insert([event(1, Date.now())]);
    await expect(writer.query('DELETE FROM audit_events')).rejects.toThrow(/DELETE command denied/i);
    expect(await ids()).toHaveLength(1);
    await admin.query('DELETE FROM audit_events');
  });

  it('purgeAudit deletes the events past the retention in batches, oldest first, and keeps the rest', async () => {
    const now = Date.now();
    const old = Array.from({ length: 25 }, (_, i) => event(100 + i, now - 401 * DAY - i * 60_000));
    const kept = [event(200, now - 399 * DAY), event(201, now - DAY), event(202, now)];
    await insert([...old, ...kept]);
    expect(await purgeAudit({ url: purgeUrl, days: 400, now, batch: 10 })).toEqual({ deleted: 25, before: new Date(now - 400 * DAY).toISOString() });
    expect(await ids()).toEqual(kept.map((e) => e.id));
    // The seq column keeps counting: a continuous export's cursor is unaffected by a purge.
    const [seq] = await admin.query<RowDataPacket[]>('SELECT MIN(seq) AS first FROM audit_events');
    expect(Number(seq[0]?.first)).toBeGreaterThan(25);
  });

  it('`npm run db:purge-audit` reads the retention from AUDIT_RETENTION_DAYS and says what it deleted', async () => {
    await insert([event(300, Date.now() - 40 * DAY), event(301, Date.now() - 20 * DAY)]);
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin/purge-audit.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, MYSQL_AUDIT_PURGE_URL: purgeUrl, AUDIT_RETENTION_DAYS: '30' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Deleted 2 audit events from before \S+Z \(retention 30 days\)\.\n$/);
    expect(run.stdout).not.toContain(purgeUrl);
    expect(await ids()).toEqual([event(201, 0).id, event(202, 0).id, event(301, 0).id]);
  });

  it('refuses a bad retention or a missing connection string with exit 2', () => {
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/purge-audit.mjs'), '--days', 'soon'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MYSQL_AUDIT_PURGE_URL: purgeUrl } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--days');
    const env: Record<string, string | undefined> = { ...process.env };
    delete env.MYSQL_AUDIT_PURGE_URL;
    const missing = spawnSync(process.execPath, [path.join(ROOT, 'bin/purge-audit.mjs')], { cwd: ROOT, encoding: 'utf8', env });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('MYSQL_AUDIT_PURGE_URL');
  });
});
