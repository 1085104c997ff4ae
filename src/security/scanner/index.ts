/** The poisoning scanner: pattern rules, Unicode rules and a learned intent score over one MCP tool definition. Pure: no I/O. */
import { featuresOf } from './features.ts';
import { fieldsOf } from './fields.ts';
import { linear, loadModel, sigmoid, type LoadedModel, type ModelWeights } from './model.ts';
import { patternHits } from './rules.ts';
import type { Field, Finding, Hit, ScanResult, Severity, ToolDefinition } from './types.ts';
import { unicodeHits } from './unicode.ts';
import { WEIGHTS } from './weights.ts';

export type { Finding, ScanResult, Severity, ToolDefinition } from './types.ts';

/** A `high` hit lifts the score to at least this. */
export const HIGH_SEVERITY_FLOOR = 0.95;
/**
 * Without any medium or high rule hit, the learned probability is multiplied by this before it becomes the score, so
 * the learned layer alone must reach threshold / this (about 0.53 at threshold 0.45) to flag: words alone are weak evidence.
 */
export const UNCORROBORATED_DISCOUNT = 0.85;
/** At most this many findings are reported per definition (strongest first). */
export const MAX_FINDINGS = 20;
const RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

let defaultModel: LoadedModel | undefined;

/** Every rule hit in a definition's fields, in field order. */
export function ruleHits(fields: readonly Field[]): Hit[] {
  const hits: Hit[] = [];
  for (const f of fields) {
    hits.push(...unicodeHits(f));
    hits.push(...patternHits(f));
  }
  return hits;
}

/** The sentence of `text` that contains `token` (case-insensitive), or the start of the text. */
function sentenceWith(text: string, token: string): string {
  const i = text.toLowerCase().indexOf(token.split(' ')[0] ?? token);
  if (i < 0) return text.slice(0, 160);
  // A sentence ends at . ! ? followed by white space (so "~/.ssh" or "example.com" do not end it), or at a line break.
  const ends = (k: number): boolean => text[k] === '\n' || (/[.!?]/u.test(text[k] ?? '') && (k + 1 >= text.length || /\s/u.test(text[k + 1] ?? '')));
  let a = i;
  while (a > 0 && !ends(a - 1)) a--;
  let b = i;
  while (b < text.length && !ends(b)) b++;
  if (b < text.length) b++;
  return text.slice(a, b).trim() || text.slice(0, 160);
}

/** Scans one tool definition. `weights` overrides the committed model (training and cross-validation use it). */
export function scanTool(def: ToolDefinition, weights?: ModelWeights): ScanResult {
  const model = weights ? loadModel(weights) : (defaultModel ??= loadModel(WEIGHTS));
  return scanWith(def, model);
}

/** Scans with a model already loaded (the fast path for batches). */
export function scanWith(def: ToolDefinition, model: LoadedModel): ScanResult {
  const fields = fieldsOf(def);
  const hits = ruleHits(fields);
  const v = featuresOf(fields, hits);
  const { z, top } = linear(model, v);
  const p = sigmoid(z);
  const high = hits.some((h) => h.severity === 'high');
  const corroborated = high || hits.some((h) => h.severity === 'medium');
  const learned = corroborated ? p : p * UNCORROBORATED_DISCOUNT;
  const score = Math.round((high ? Math.max(learned, HIGH_SEVERITY_FLOOR) : learned) * 1e4) / 1e4;
  const flagged = score >= model.threshold;
  if (!flagged) return { flagged, score, findings: [] };

  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const h of [...hits].sort((a, b) => RANK[a.severity] - RANK[b.severity])) {
    const key = `${h.rule}\u0000${h.where}\u0000${h.span}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push({ rule: h.rule, message: h.message.includes(h.where) ? h.message : `${h.message} (in ${h.where})`, span: h.span });
  }
  if (learned >= model.threshold) {
    const first = top[0];
    const field = first ? fields.find((f) => f.where === first.where) : fields.find((f) => f.where === 'description');
    const text = field?.text ?? def.name;
    const span = first && field?.kind === 'prose' ? sentenceWith(text, first.token) : text;
    const words = top.map((t) => `"${t.token.replace(/^[np]:/u, '')}"`).join(', ');
    findings.push({
      rule: 'intent/learned',
      message: `the learned layer scores the intent of this definition ${p.toFixed(2)}${corroborated ? '' : ` (no rule corroborates it, so it counts as ${learned.toFixed(2)})`} against a threshold of ${model.threshold}${words ? `; strongest words: ${words}` : ''} (in ${field?.where ?? 'name'})`,
      span,
    });
  }
  const capped = findings.length > MAX_FINDINGS ? [...findings.slice(0, MAX_FINDINGS - 1), findings[findings.length - 1] as Finding] : findings;
  return { flagged, score, findings: capped };
}

/** Scans free text (for example a tool result) as if it were a tool description. */
export function scanText(text: string, weights?: ModelWeights): ScanResult {
  return scanTool({ name: 'text', description: text }, weights);
}

/** The committed model, loaded once. */
export function committedModel(): LoadedModel {
  return (defaultModel ??= loadModel(WEIGHTS));
}
