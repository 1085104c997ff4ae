// The result scan's part of `npm run bench`: scanner throughput (bench/scanner.mjs, definitions per second) and the cost of
// scanning tool results: tools/call sql_select (50 ticket rows) on two servers of one runtime that differ only in
// RESULT_SCAN (on, off), measured interleaved in slices like the audit pair, reported as p50/p99/throughput on ÷ off.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { callTool, closeSession, openLoad, openSession, phaseResult } from './load.mjs';

/** The server spec run.mjs adds: the embedded database with RESULT_SCAN=off (auditing on, like the default server). */
export const RESULT_SCAN_OFF_SPEC = /** @type {const} */ ({ key: 'embedded-scan-off', db: 'embedded', audit: true, resultScan: false, label: 'embedded database, RESULT_SCAN=off' });
/** Row keys of the pair, in table order. */
export const RESULT_SCAN_KEYS = ['result_scan_on', 'result_scan_off'];
const SLICES = 6;
/** Generated demo tickets are ids 1..1200; windows of 50 below 1150 never reach the poisoned ones (1201+), so nothing is flagged. */
const WINDOWS = 1100;

/** Extra vars of a server spec: RESULT_SCAN=off for the scan-off server. */
export function resultScanVars(spec) {
  return spec.resultScan === false ? { RESULT_SCAN: 'off' } : {};
}

/** One sql_select of 50 ticket rows (id, customer, subject, status, priority, dates): the text a scan reads. */
function ticketsIteration(signal) {
  return (client, headers, n) =>
    // eslint-disable-next-line house-security/no-string-built-sql -- sql_select takes one statement with literal values (no placeholders); the value is an integer computed here
    callTool(client, headers, n + 1, 'sql_select', { sql: `SELECT id, customer_id, subject, status, priority, created_at, updated_at FROM tickets WHERE id > ${(n * 37) % WINDOWS} ORDER BY id LIMIT 50` }, signal);
}

/**
 * The on/off pair on one runtime: sessions on both servers, a warm-up on each, then SLICES slices per side interleaved
 * on, off | off, on | … Returns two rows (latencies pooled per side).
 */
export async function runResultScanPair(on, off, { connections, warmupMs, durationMs, signal, say }) {
  const iteration = ticketsIteration(signal);
  const base = (server, key, label) => ({ runtime: server.runtime, scenario: key, label, unit: 'req', db: server.db, server: server.key, audit: server.audit });
  const rows = { on: base(on, 'result_scan_on', 'tools/call sql_select 50 tickets, RESULT_SCAN=on'), off: base(off, 'result_scan_off', 'tools/call sql_select 50 tickets, RESULT_SCAN=off') };
  const loads = {};
  try {
    loads.on = await openLoad({ baseUrl: on.url, connections, mcpHeaders: on.auth, signal, setup: (client) => openSession(client, signal) });
    loads.off = await openLoad({ baseUrl: off.url, connections, mcpHeaders: off.auth, signal, setup: (client) => openSession(client, signal) });
    await loads.on.phase(warmupMs, iteration);
    await loads.off.phase(warmupMs, iteration);
    const phases = { on: [], off: [] };
    const order = Array.from({ length: SLICES }, (_, i) => (i % 2 === 0 ? ['on', 'off'] : ['off', 'on'])).flat();
    for (const side of order) phases[side].push(await loads[side].phase(durationMs / SLICES, iteration));
    for (const side of ['on', 'off']) {
      Object.assign(rows[side], phaseResult(phases[side]), { interleaving: { slicesPerSide: SLICES, order: order.join(' ') } });
      if (rows[side].ok === 0) rows[side].failed = `every iteration failed (${rows[side].errors}), e.g. ${rows[side].errorSamples[0] ?? 'no sample'}`;
    }
  } catch (error) {
    for (const row of Object.values(rows)) row.failed ??= String(error?.message ?? error);
  } finally {
    await Promise.all([loads.on?.close((client, headers) => closeSession(client, headers)), loads.off?.close((client, headers) => closeSession(client, headers))]);
  }
  for (const row of Object.values(rows)) {
    if (row.failed) say(`${row.runtime} · ${row.label}: FAILED — ${row.failed}`);
    else say(`${row.runtime} · ${row.label}: ${row.perSecond} req/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, ${row.errors} errors (${SLICES} interleaved slices)`);
  }
  return [rows.on, rows.off];
}

/** Scanner throughput from bench/scanner.mjs (its own process; in process and through the scan command). */
export function scannerThroughput(root) {
  try {
    const out = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, 'bench/scanner.mjs')], { encoding: 'utf8', timeout: 120_000 });
    const parsed = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    return parsed.scanner ? { ...parsed.scanner, resultScan: parsed.resultScan ?? null } : null;
  } catch (error) {
    return { failed: String(error?.message ?? error).slice(0, 400) };
  }
}

/** The result-scan section of the report: throughput and the on ÷ off cost per runtime. */
export function resultScanReport(rows, scanner) {
  const cost = [];
  for (const runtime of [...new Set(rows.map((r) => r.runtime))]) {
    const on = rows.find((r) => r.runtime === runtime && r.scenario === 'result_scan_on');
    const off = rows.find((r) => r.runtime === runtime && r.scenario === 'result_scan_off');
    if (!on || !off || on.failed || off.failed || !off.latencyMs.p50 || !off.latencyMs.p99 || !off.perSecond) continue;
    const ratio = (a, b) => Math.round((a / b) * 100) / 100;
    cost.push({
      runtime,
      on: { perSecond: on.perSecond, p50: on.latencyMs.p50, p99: on.latencyMs.p99 },
      off: { perSecond: off.perSecond, p50: off.latencyMs.p50, p99: off.latencyMs.p99 },
      ratio: { p50: ratio(on.latencyMs.p50, off.latencyMs.p50), p99: ratio(on.latencyMs.p99, off.latencyMs.p99), throughput: ratio(on.perSecond, off.perSecond) },
    });
  }
  return { scanner, cost };
}

/** The printed lines: throughput, then per runtime one line for on, one for off, one for the ratio. */
export function resultScanLines(section) {
  const out = ['', 'Poisoning scanner and result scan'];
  const s = section.scanner;
  if (!s || s.failed) out.push(`  scanner throughput: not measured${s?.failed ? ` (${s.failed})` : ''}`);
  else out.push(`  scanner throughput: ${s.inProcessPerSecond} definitions/s in process (${s.inProcessPerCpuSecond} per CPU second; target ≥ 10000/s), ${s.cliPerSecondIncludingStartup}/s through scan --jsonl (${s.cliDefinitions} definitions, start-up ${s.cliStartupSeconds} s included); load average ${Number(s.loadAverage).toFixed(2)}`);
  if (s?.resultScan) out.push(`  result scan alone (in process): ${s.resultScan.cpuMsPerResult} ms CPU per tool result of ${s.resultScan.rowsPerResult} ticket rows (${s.resultScan.wallMsPerResult} ms wall)`);
  if (section.cost.length === 0) out.push('  result scan on ÷ off: not measured (a scenario failed or was not run)');
  for (const c of section.cost) {
    out.push(`  ${c.runtime} · sql_select 50 tickets, RESULT_SCAN=on:  p50 ${c.on.p50.toFixed(2)} ms, p99 ${c.on.p99.toFixed(2)} ms, ${c.on.perSecond} req/s`);
    out.push(`  ${c.runtime} · sql_select 50 tickets, RESULT_SCAN=off: p50 ${c.off.p50.toFixed(2)} ms, p99 ${c.off.p99.toFixed(2)} ms, ${c.off.perSecond} req/s`);
    out.push(`  ${c.runtime} · result scan on ÷ off: p50 ${c.ratio.p50.toFixed(2)}×, p99 ${c.ratio.p99.toFixed(2)}×, throughput ${c.ratio.throughput.toFixed(2)}×`);
  }
  return out;
}
