/** Tools: the catalog this server serves with scopes, integrity against the signed lock (tools.lock.json), and the poisoning scanner's verdict on each definition. */
import { loadConfig } from '../../config.ts';
import type { Env } from '../../env.ts';
import { checkTools } from '../../mcp/tool-integrity.ts';
import { referenceTools } from '../../mcp/tool-definitions.ts';
import { bundledLock } from '../../mcp/tool-lock.ts';
import { scanTool } from '../../security/scanner/index.ts';
import { escapeHtml, table } from './layout.ts';

/** The tools page body. */
export async function toolsPage(env: Env): Promise<string> {
  const config = loadConfig(env);
  const [served, verdict] = await Promise.all([referenceTools(config), checkTools(config, bundledLock())]);
  const failures = new Map(verdict.failed.map((f) => [f.tool, f]));
  const rows = served.map(({ entry, scope, pack }) => {
    const failure = failures.get(entry.name);
    const integrity = failure ? `<span class="bad">refused</span> ${escapeHtml(failure.message)}` : verdict.passed.has(entry.name) ? '<span class="ok">verified</span> (digest and signature match the lock)' : '<span class="bad">unchecked</span>';
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const scan = scanTool({ name: entry.name, description: text(entry.description), title: text(entry.title), inputSchema: entry.inputSchema });
    const findings = scan.findings.map((f) => `${f.rule}: ${f.message}`).join('; ');
    return [
      `<code>${escapeHtml(entry.name)}</code>`,
      escapeHtml(text(entry.title) ?? ''),
      escapeHtml(scope ?? 'none'),
      escapeHtml(pack),
      integrity,
      `${scan.flagged ? '<span class="bad">flagged</span>' : '<span class="ok">clean</span>'} <span class="muted">score ${scan.score.toFixed(2)}</span>${findings ? ` ${escapeHtml(findings)}` : ''}`,
    ];
  });
  return `${table('Tools served', ['Name', 'Title', 'Scope', 'Pack', 'Integrity', 'Poisoning scanner'], rows, 'tools')}
<p class="muted">A tool whose definition no longer matches its signed entry in tools.lock.json is not served. Signing keys: <a href="/.well-known/mcp-tools-jwks.json">the tools JWKS</a>.</p>
<h2 id="vetted">Vetted third-party servers</h2><p class="muted">No vetted-servers.lock.json is bundled with this build: vet a third-party server with <code>npm run vet</code>.</p>`;
}
