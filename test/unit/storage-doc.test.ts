// docs/storage.md cannot drift: every table it lists, and every column, is held against the DDL the code runs.
import { describe, expect, it } from 'vitest';
import doc from '../../docs/storage.md?raw';
import { API_KEY_SCHEMA } from '../../durable/api-key.ts';
import { AUDIT_OUTBOX_SCHEMA } from '../../durable/audit-outbox.ts';
import { AUDIT_STORE_SCHEMA } from '../../durable/audit-store.ts';
import { SCHEMA as TXN_SCHEMA } from '../../durable/auth-transaction-state.ts';
import { CLIENT_REGISTRY_SCHEMA } from '../../durable/client-registry.ts';
import { FAILURE_COUNTER_SCHEMA } from '../../durable/failure-counter.ts';
import { SESSION_INDEX_SCHEMA } from '../../durable/session-index.ts';
import { ALERT_HUB_SCHEMA } from '../../durable/alert-hub.ts';
import { PRINCIPAL_BASELINE_SCHEMA } from '../../durable/principal-baseline.ts';
import { SESSION_BASELINE_SCHEMA } from '../../durable/session-baseline.ts';
import { SCHEMA as SESSION_SCHEMA } from '../../durable/session-store.ts';
import { mintId } from '../../src/auth/ids.ts';
import { MYSQL_AUDIT_DDL, MYSQL_DDL, SQLITE_DDL } from '../../src/db/schema.ts';

/** Each section of the document (by the start of its heading) and the DDL it describes. */
const SECTIONS: Array<[heading: string, ddl: readonly string[]]> = [
  ['`McpSession` Durable Object', SESSION_SCHEMA],
  ['`AuthTransaction` Durable Object', TXN_SCHEMA],
  ['`ClientRegistry` Durable Object', CLIENT_REGISTRY_SCHEMA],
  ['`ApiKey` Durable Object', API_KEY_SCHEMA],
  ['Behavioural baselines', [...PRINCIPAL_BASELINE_SCHEMA, ...SESSION_BASELINE_SCHEMA]],
  ['`AlertHub` Durable Object', ALERT_HUB_SCHEMA],
  ['Audit outboxes', AUDIT_OUTBOX_SCHEMA],
  ['`AuditStore` Durable Object', AUDIT_STORE_SCHEMA],
  ['`FailureCounter` Durable Object', FAILURE_COUNTER_SCHEMA],
  ['`SessionIndex` Durable Object', SESSION_INDEX_SCHEMA],
  ['MySQL audit database', MYSQL_AUDIT_DDL],
  ['`EmbeddedDatabase` Durable Object', SQLITE_DDL],
  ['MySQL (through Hyperdrive)', MYSQL_DDL],
];

const NOT_A_COLUMN = /^(INDEX|UNIQUE|PRIMARY|CONSTRAINT|KEY|CHECK|FOREIGN)\b/i;

/** Splits at commas outside parentheses. */
function topLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** Table name to column names, from CREATE TABLE statements. */
function ddlTables(ddl: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const statement of ddl) {
    const m = /^CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*)\)$/.exec(statement.trim());
    if (!m?.[1] || m[2] === undefined) continue;
    out[m[1]] = topLevel(m[2]).filter((item) => !NOT_A_COLUMN.test(item)).map((item) => item.split(/\s+/)[0] ?? '');
  }
  return out;
}

/** The sections of the document: heading line to body. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of doc.split(/^## /m).slice(1)) {
    const [heading = '', ...body] = part.split('\n');
    out.set(heading, body.join('\n'));
  }
  return out;
}

/** Table name to column names, from the markdown tables of a section (the first backticked word of each column item). */
function docTables(body: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of body.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (!line.startsWith('|') || !name) continue;
    out[name] = topLevel(cells[2] ?? '').map((item) => /^`(\w+)`/.exec(item)?.[1] ?? `(not a column: ${item})`);
  }
  return out;
}

describe('docs/storage.md', () => {
  for (const [heading, ddl] of SECTIONS) {
    it(`"${heading}" lists exactly the tables and columns of its DDL`, () => {
      const match = [...sections()].find(([h]) => h.startsWith(heading));
      expect(match, `a section "## ${heading}"`).toBeDefined();
      const expected = ddlTables(ddl);
      expect(Object.keys(expected).length).toBeGreaterThan(0);
      expect(docTables(match?.[1] ?? '')).toEqual(expected);
    });
  }

  it('every section with tables is listed above (nothing undocumented, nothing unchecked)', () => {
    const withTables = [...sections()].filter(([, body]) => Object.keys(docTables(body)).length > 0).map(([h]) => h);
    for (const heading of withTables) expect(SECTIONS.some(([h]) => heading.startsWith(h)), heading).toBe(true);
  });

  it('every table row sits in a table: a header and a separator, no blank line inside', () => {
    const lines = doc.split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('|')) return;
      const above = lines[i - 1] ?? '';
      const header = /^\|\s*table\s*\|/.test(line) && /^\|[-| ]+\|$/.test(lines[i + 1] ?? '');
      expect(header || above.startsWith('|'), `line ${i + 1}: ${line.slice(0, 40)}`).toBe(true);
    });
  });

  it('states the id format the code mints: 128 random bits and a 128-bit tag, 43 characters', async () => {
    const key = await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const id = await mintId(key, 'session', new Uint8Array(16));
    expect(id).toHaveLength(43);
    expect(doc).not.toMatch(/43 characters[^.)]*256|random 256-bit id/);
    for (const object of ['McpSession', 'AuthTransaction', 'ApiKey']) {
      const body = [...sections()].find(([h]) => h.startsWith(`\`${object}\``))?.[1] ?? '';
      expect(body, object).toContain('43 characters: 128 random bits and a 128-bit HMAC tag');
    }
  });
});
