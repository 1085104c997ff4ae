// `npm run scan` without arguments: scans the tool definitions this server serves and checks each finding against the allowance file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { scanTool } from '../../src/security/scanner/index.ts';
import { sqlTools } from '../../src/tools/sql.ts';
import { supportTools } from '../../src/tools/support.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Written allowances for findings on our own tools: `[{tool, rule, span?, reason}]`; see docs/scanner.md. */
export const ALLOWANCES = 'data/scanner/allowances.json';

/** The definitions clients see in tools/list for the catalog (src/mcp/server.ts registers the same list). */
export function catalogDefinitions() {
  return [...supportTools, ...sqlTools].map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: z.toJSONSchema(t.input),
  }));
}

function loadAllowances() {
  const list = JSON.parse(readFileSync(path.join(ROOT, ALLOWANCES), 'utf8'));
  if (!Array.isArray(list)) throw new Error(`${ALLOWANCES} must be a JSON array`);
  for (const [i, a] of list.entries()) {
    if (typeof a?.tool !== 'string' || typeof a?.rule !== 'string' || typeof a?.reason !== 'string' || a.reason.trim() === '') {
      throw new Error(`${ALLOWANCES}[${i}]: needs "tool", "rule" and a non-empty "reason" ("span" optional)`);
    }
  }
  return list;
}

/** Scans the catalog, prints a report on stdout, returns the exit code (1 when a finding has no allowance). */
export async function scanCatalog() {
  let allowances;
  try {
    allowances = loadAllowances();
  } catch (e) {
    process.stderr.write(`scan: ${e.message}\n`);
    return 2;
  }
  const used = new Set();
  let unallowed = 0;
  const defs = catalogDefinitions();
  for (const def of defs) {
    const r = scanTool(def);
    if (!r.flagged) {
      process.stdout.write(`ok       ${def.name} (score ${r.score})\n`);
      continue;
    }
    process.stdout.write(`FLAGGED  ${def.name} (score ${r.score})\n`);
    for (const f of r.findings) {
      const i = allowances.findIndex((a) => a.tool === def.name && a.rule === f.rule && (a.span === undefined || a.span === f.span));
      if (i >= 0) used.add(i);
      else unallowed++;
      process.stdout.write(`  ${i >= 0 ? 'allowed ' : 'NOT ALLOWED'} ${f.rule}: ${f.message}\n      span: ${JSON.stringify(f.span)}${i >= 0 ? `\n      allowance: ${allowances[i].reason}` : ''}\n`);
    }
  }
  allowances.forEach((a, i) => {
    if (!used.has(i)) process.stderr.write(`scan: allowance ${i} (${a.tool}, ${a.rule}) matched nothing; remove it from ${ALLOWANCES}\n`);
  });
  process.stdout.write(`${defs.length} tools scanned; ${unallowed === 0 ? 'no finding without an allowance' : `${unallowed} finding(s) without an allowance (add a reviewed entry to ${ALLOWANCES} or fix the tool)`}\n`);
  return unallowed === 0 ? 0 : 1;
}
