// End to end in Node: the replay command `npm run -s anomaly -- --jsonl FILE` and its exact output contract.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'anomaly-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the npm script exactly as the contract states it. */
function anomaly(args: string[]): Run {
  const result = spawnSync('npm', ['run', '-s', 'anomaly', '--', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

/** Three weeks of an agent's nightly-ish habit, then an exfiltration burst from a new address. */
function trace(): string[] {
  const lines: string[] = [];
  let n = 0;
  for (let d = 0; d < 21; d++) {
    for (let i = 0; i < 6; i++) {
      const ts = new Date(START + d * DAY + i * 90_000).toISOString();
      lines.push(JSON.stringify({ id: `n${++n}`, ts, principal: 'key_report', kind: 'agent', tool: i === 0 ? 'support_report' : 'list_open_tickets', args: i === 0 ? {} : { priority: 'urgent' }, status: 'ok', rows: 10 + i, bytes: 2000, ip: '192.0.2.10', userAgent: 'report-agent/1.0' }));
    }
  }
  for (let i = 0; i < 30; i++) {
    const ts = new Date(START + 21 * DAY + 3 * 3_600_000 + i * 1000).toISOString();
    lines.push(JSON.stringify({ id: `x${i}`, ts, principal: 'key_report', kind: 'agent', tool: 'get_customer', args: { customer_id: 1000 + i }, status: 'ok', rows: 1, bytes: 400, ip: '203.0.113.9', userAgent: 'python-requests/2.32.3' }));
  }
  return lines;
}

describe('npm run -s anomaly -- --jsonl FILE', () => {
  it('prints exactly one verdict per valid line, in order, skips a malformed line with its number on stderr, exits 1', () => {
    const lines = trace();
    const input = [...lines.slice(0, 3), '{"id": "broken", "ts": ', ...lines.slice(3, 5), '{"id":"bad-kind","ts":"2026-01-05T09:00:00Z","principal":"p","kind":"robot","tool":"t","args":{},"status":"ok"}', ...lines.slice(5)];
    const file = path.join(dir, 'calls.jsonl');
    writeFileSync(file, `${input.join('\n')}\n`);
    const run = anomaly(['--jsonl', file]);
    expect(run.status).toBe(1);
    const out = run.stdout.split('\n');
    expect(out.pop()).toBe('');
    expect(out).toHaveLength(lines.length);
    const verdicts = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(verdicts.map((v) => v.id)).toEqual(lines.map((l) => (JSON.parse(l) as { id: string }).id));
    for (const v of verdicts) {
      expect(Object.keys(v)).toEqual(['id', 'score', 'alert', 'reasons']);
      expect(typeof v.score).toBe('number');
      expect(v.score as number).toBeGreaterThanOrEqual(0);
      expect(v.score as number).toBeLessThanOrEqual(1);
      expect(typeof v.alert).toBe('boolean');
      expect(Array.isArray(v.reasons) && (v.reasons as unknown[]).every((r) => typeof r === 'string')).toBe(true);
    }
    expect(run.stderr).toMatch(/line 4: skipped/);
    expect(run.stderr).toMatch(/line 7: skipped, "kind" must be/);
    // the habit raises no alert; the burst from a new address does, with reasons
    const normal = verdicts.filter((v) => String(v.id).startsWith('n'));
    expect(normal.filter((v) => v.alert)).toEqual([]);
    const attack = verdicts.filter((v) => String(v.id).startsWith('x'));
    const first = attack.find((v) => v.alert);
    expect(first).toBeDefined();
    expect((first?.reasons as string[]).join('\n')).toMatch(/first use of get_customer|new address 203\.0\.113\.9/);
  });

  it('a clean file exits 0 with nothing on stderr', () => {
    const file = path.join(dir, 'clean.jsonl');
    writeFileSync(file, `${trace().slice(0, 20).join('\n')}\n`);
    const run = anomaly(['--jsonl', file]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toHaveLength(20);
  });

  it('a missing file or a missing argument is a usage error: exit 2, nothing on stdout', () => {
    const missing = anomaly(['--jsonl', path.join(dir, 'nope.jsonl')]);
    expect(missing.status).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/cannot read/);
    const none = anomaly([]);
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/usage: npm run -s anomaly -- --jsonl FILE/);
  });

  it('gives the same verdicts on every run (no clock, no randomness)', () => {
    const file = path.join(dir, 'again.jsonl');
    writeFileSync(file, `${trace().join('\n')}\n`);
    expect(anomaly(['--jsonl', file]).stdout).toBe(anomaly(['--jsonl', file]).stdout);
  });
});
