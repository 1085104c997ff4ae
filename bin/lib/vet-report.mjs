// Compares a server's tools with what was pinned, scans them, and finds look-alike names: the report `vet` prints, and its exit code.
import { jsonChanges } from '../../src/security/integrity/diff.ts';
import { resemblance } from '../../src/security/integrity/names.ts';
import { definitionDigest } from './vet-lock.mjs';

/** Exit codes of `npm run vet` (README "Vet a third-party MCP server"). */
export const EXIT = { clean: 0, findings: 1, usage: 2, connect: 3, unscanned: 4 };

/**
 * Builds the report of one run.
 * @param {{ url: string, listing: { server: { name: string, version: string } | null, tools: Array<{ name: string } & Record<string, unknown>>, pages: number },
 *   lock: { servers: Record<string, { tools: Record<string, { digest: string, definition: object }> }> }, ourTools: string[], scanner: { available: boolean, reason?: string, scan?: Function },
 *   accept: boolean, now: Date, progress: (line: string) => void }} input
 * @returns the report, and the lock to write (null when nothing is to be written)
 */
export async function vetServer(input) {
  const { url, listing, lock, ourTools, scanner, accept, now, progress } = input;
  const pinned = lock.servers[url];
  const firstRun = pinned === undefined;
  const tools = [];
  const seen = new Map();
  for (const definition of listing.tools) {
    const digest = await definitionDigest(definition);
    const before = pinned?.tools[definition.name];
    let status = 'pinned';
    let changed;
    if (!firstRun) {
      if (!before) status = 'new';
      else if (before.digest === digest) status = 'unchanged';
      else {
        status = 'changed';
        changed = jsonChanges(before.definition, definition);
      }
    }
    const row = { name: definition.name, digest, status, ...(changed ? { changed } : {}) };
    if (scanner.available) {
      progress(`scanning ${definition.name}`);
      row.scan = await scanner.scan({ name: definition.name, description: typeof definition.description === 'string' ? definition.description : '', inputSchema: definition.inputSchema });
    }
    tools.push(row);
    seen.set(definition.name, (seen.get(definition.name) ?? 0) + 1);
  }
  for (const name of Object.keys(pinned?.tools ?? {})) {
    if (!seen.has(name)) tools.push({ name, digest: pinned.tools[name].digest, status: 'removed' });
  }
  tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const collisions = [];
  for (const [name, count] of seen) if (count > 1) collisions.push({ tool: name, other: name, where: 'this server', kind: 'duplicate' });
  const others = [...ourTools.map((n) => ({ name: n, where: 'own-mcp-server (ours)' }))];
  for (const [otherUrl, entry] of Object.entries(lock.servers)) {
    if (otherUrl === url) continue;
    for (const n of Object.keys(entry.tools)) others.push({ name: n, where: otherUrl });
  }
  for (const name of seen.keys()) {
    for (const other of others) {
      const kind = resemblance(name, other.name);
      if (kind) collisions.push({ tool: name, other: other.name, where: other.where, kind });
    }
  }

  const count = (status) => tools.filter((t) => t.status === status).length;
  const summary = {
    tools: seen.size,
    changed: count('changed'),
    new: count('new'),
    removed: count('removed'),
    flagged: tools.filter((t) => t.scan?.flagged).length,
    collisions: collisions.length,
  };
  const findings = summary.changed + summary.new + summary.removed + summary.flagged + summary.collisions;
  const exitCode = findings > 0 ? EXIT.findings : scanner.available ? EXIT.clean : EXIT.unscanned;

  let nextLock = null;
  if (firstRun || accept) {
    const pinnedTools = {};
    for (const definition of listing.tools) pinnedTools[definition.name] = { digest: await definitionDigest(definition), definition };
    nextLock = { ...lock, servers: { ...lock.servers, [url]: { server: listing.server, pinnedAt: now.toISOString(), tools: pinnedTools } } };
  }
  const report = {
    url,
    server: listing.server,
    pages: listing.pages,
    firstRun,
    accepted: !firstRun && accept,
    scanner: scanner.available ? { available: true } : { available: false, reason: scanner.reason },
    summary,
    tools,
    collisions,
    exitCode,
  };
  return { report, nextLock };
}

/** The report as a readable table and notes (no colours; fits a CI log). */
export function formatReport(report) {
  const lines = [];
  const server = report.server ? `${report.server.name} ${report.server.version}` : 'unnamed server';
  lines.push(`Vetted ${report.url} (${server}): ${report.summary.tools} tools${report.firstRun ? ', pinned on first use' : ''}${report.accepted ? ', changes accepted and re-pinned' : ''}`);
  lines.push('');
  const rows = [['TOOL', 'STATUS', 'DIGEST', 'SCAN']];
  for (const t of report.tools) {
    const scan = !report.scanner.available ? 'not scanned' : !t.scan ? '-' : t.scan.flagged ? `FLAGGED ${t.scan.score.toFixed(2)}` : `clean ${t.scan.score.toFixed(2)}`;
    rows.push([t.name, t.status === 'changed' || t.status === 'new' || t.status === 'removed' ? t.status.toUpperCase() : t.status, `${t.digest.slice(0, 19)}…`, scan]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) lines.push(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  const changed = report.tools.filter((t) => t.changed);
  if (changed.length > 0) {
    lines.push('', 'Changed definitions (possible rug pull; re-pin with --accept after review):');
    for (const t of changed) lines.push(`  ${t.name}: ${t.changed.map((c) => `${c.path || '(whole)'} ${c.change}`).join(', ')}`);
  }
  const flagged = report.tools.filter((t) => t.scan?.flagged);
  if (flagged.length > 0) {
    lines.push('', 'Scanner findings:');
    for (const t of flagged) for (const f of t.scan.findings) lines.push(`  ${t.name}: [${f.rule}] ${f.message}`);
  }
  if (report.collisions.length > 0) {
    lines.push('', 'Name collisions and look-alikes (shadowing):');
    for (const c of report.collisions) lines.push(`  ${c.tool} ~ ${c.other} (${c.where}): ${c.kind}`);
  }
  if (!report.scanner.available) lines.push('', `WARNING: ${report.scanner.reason}`);
  const verdict = {
    [EXIT.clean]: 'clean: nothing changed, nothing flagged',
    [EXIT.findings]: 'findings: see above',
    [EXIT.unscanned]: 'pinned and compared, but NOT scanned',
  }[report.exitCode];
  lines.push('', `Result: exit ${report.exitCode} (${verdict})`);
  return `${lines.join('\n')}\n`;
}
