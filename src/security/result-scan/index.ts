/**
 * The result scanner: reads the strings a tool returns (rows, report text) for text aimed at the model: instructions
 * hidden in a ticket, invisible or bidi characters, "ignore previous instructions", collection URLs, encoded payloads.
 * It reuses the poisoning scanner's rules with weights tuned for data, plus rules of its own. Pure: no I/O.
 */
import { ruleHits } from '../scanner/index.ts';
import type { Hit } from '../scanner/types.ts';
import { childPath } from './paths.ts';
import { DATA_CUES, DATA_RULES, dataSeverity, isModelDirected, toolNamePattern } from './data-rules.ts';
import type { ResultFinding, ResultScan, ResultScanOptions, ResultSeverity } from './types.ts';

export type { ResultFinding, ResultScan, ResultScanOptions, ResultSeverity } from './types.ts';

/**
 * A string is flagged when its findings weigh at least this much (`high` 2, `medium` 1, `low` 0, each rule once) and
 * at least one of them shows the text is aimed at a model (data-rules.ts, isModelDirected).
 */
export const FLAG_WEIGHT = 2;
/** JSON nesting read at most (deeper values are not read; tool results are rows, a few levels deep). */
const MAX_DEPTH = 32;
const WEIGHT: Record<ResultSeverity, number> = { high: 2, medium: 1, low: 0 };
const RANK: Record<ResultSeverity, number> = { high: 0, medium: 1, low: 2 };

/** Emoji sequences joined with U+200D and flag tag sequences are ordinary text, not hidden characters. */
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
// eslint-disable-next-line security/detect-unsafe-regex -- one bounded run of tag letters, no nested repetition
const FLAG_TAGS = /\u{1F3F4}[\u{E0061}-\u{E007A}]{2,6}\u{E007F}/gu;
// eslint-disable-next-line security/detect-unsafe-regex, no-misleading-character-class -- a class of single invisible code points (the scanner's list), no repetition
const INVISIBLE = /[\u00AD\u034F\u115F\u1160\u180E\u200B-\u200D\u2060-\u2064\u3164\uFEFF\uFFA0]|[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/u;

/** `text` without the U+200D joiners of emoji sequences (pictograph, optional U+FE0F, joiner, pictograph). */
function withoutEmojiJoins(text: string): string {
  const cps = [...text];
  return cps
    .filter((c, i) => {
      if (c !== '\u200D') return true;
      const before = cps[i - 1] === '\uFE0F' ? cps[i - 2] : cps[i - 1];
      return !(before && PICTOGRAPHIC.test(before) && PICTOGRAPHIC.test(cps[i + 1] ?? ''));
    })
    .join('');
}

interface Compiled {
  names: RegExp | null;
}

const compiledFor = new WeakMap<readonly string[], Compiled>();

function compile(options: ResultScanOptions): Compiled {
  let c = compiledFor.get(options.toolNames);
  if (!c) {
    c = { names: toolNamePattern(options.toolNames) };
    compiledFor.set(options.toolNames, c);
  }
  return c;
}

/** Where `span` sits in `text` (searching from `from` first), or -1. */
function locate(text: string, span: string, from: number): number {
  if (span === '') return -1;
  const i = text.indexOf(span, from);
  return i >= 0 ? i : text.indexOf(span);
}

function finding(rule: string, severity: ResultSeverity, message: string, text: string, path: string, start: number, end: number): ResultFinding {
  return { rule, severity, message, span: text.slice(start, end), path, start, end };
}

/** The scanner's hits as data findings (weights for data, offsets found). */
function scannerFindings(text: string, path: string): ResultFinding[] {
  const out: ResultFinding[] = [];
  const next = new Map<string, number>();
  let hits: Hit[] = ruleHits([{ where: path, text, kind: 'prose' }]);
  // An emoji family or a flag is not a hidden character: drop invisible-character hits that only those explain.
  if (hits.some((h) => h.rule === 'unicode/invisible') && !INVISIBLE.test(withoutEmojiJoins(text.replace(FLAG_TAGS, '')))) {
    hits = hits.filter((h) => h.rule !== 'unicode/invisible');
  }
  for (const h of hits) {
    const key = `${h.rule}\u0000${h.span}`;
    const at = locate(text, h.span, next.get(key) ?? 0);
    if (at < 0) continue;
    next.set(key, at + h.span.length);
    out.push(finding(h.rule, dataSeverity(h), h.message, text, path, at, at + h.span.length));
  }
  return out;
}

/** Findings in one string, or none when it is not flagged. */
export function scanString(text: string, path: string, options: ResultScanOptions): ResultFinding[] {
  const c = compile(options);
  const named = c.names?.exec(text);
  if (!named && !DATA_CUES.test(text)) return [];
  const found = scannerFindings(text, path);
  for (const r of DATA_RULES) {
    const m = r.re.exec(text);
    if (m) found.push(finding(r.id, r.severity, `${r.message} (in ${path})`, text, path, m.index, m.index + m[0].length));
  }
  if (named) found.push(finding('result/tool-name', 'medium', `names ${named[0]}, one of this server's tools (in ${path})`, text, path, named.index, named.index + named[0].length));
  // Each rule counts once: two hits of one rule are one piece of evidence.
  const weightOf = new Map<string, number>();
  for (const f of found) weightOf.set(f.rule, Math.max(weightOf.get(f.rule) ?? 0, WEIGHT[f.severity]));
  let weight = 0;
  let directed = false;
  for (const [rule, w] of weightOf) {
    weight += w;
    if (w > 0 && isModelDirected(rule)) directed = true;
  }
  if (weight < FLAG_WEIGHT || !directed) return [];
  const seen = new Set<string>();
  return found
    .filter((f) => {
      const key = `${f.rule}\u0000${f.start}\u0000${f.end}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.start - b.start);
}

/** Every string in a JSON value with its path (depth-limited). */
export function stringsOf(value: unknown, path = '', depth = 0, out: Array<[string, string]> = []): Array<[string, string]> {
  if (typeof value === 'string') out.push([path, value]);
  else if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return out;
  else if (Array.isArray(value)) value.forEach((v, i) => stringsOf(v, childPath(path, i), depth + 1, out));
  else for (const [k, v] of Object.entries(value)) stringsOf(v, childPath(path, k), depth + 1, out);
  return out;
}

/** Scans every string of a JSON value (structured content, or a text treated as one string). Repeated strings are read once. */
export function scanValue(value: unknown, options: ResultScanOptions, base = ''): ResultScan {
  const findings: ResultFinding[] = [];
  const memo = new Map<string, ResultFinding[]>();
  let skipped = 0;
  const strings = stringsOf(value, base);
  for (const [path, text] of strings) {
    let hits = memo.get(text);
    if (hits === undefined) {
      hits = scanString(text, '\u0000', options);
      memo.set(text, hits);
      if (hits.length === 0 && !DATA_CUES.test(text)) skipped++;
    }
    for (const h of hits) findings.push({ ...h, path, message: h.message.replaceAll('\u0000', path) });
  }
  findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
  return { flagged: findings.length > 0, findings, strings: strings.length, skipped };
}
