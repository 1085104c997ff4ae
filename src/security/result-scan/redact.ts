/** Redaction of flagged spans in returned data: each offending sentence (or run of hidden characters) becomes a marker. */
import { childPath } from './paths.ts';
import type { ResultFinding } from './types.ts';

/** What replaces removed text. */
export const REDACTION_MARKER = '[removed by the result scan: instruction-like text]';

/** Where the sentence around [start, end) begins and ends: at . ! ? followed by white space, or a line break. */
function sentenceAround(text: string, start: number, end: number): [number, number] {
  const ends = (k: number): boolean => text[k] === '\n' || (/[.!?]/u.test(text[k] ?? '') && (k + 1 >= text.length || /\s/u.test(text[k + 1] ?? '')));
  let a = start;
  while (a > 0 && !ends(a - 1)) a--;
  let b = Math.max(end, start);
  while (b < text.length && !ends(b)) b++;
  if (b < text.length) b++;
  while (a < b && /\s/u.test(text[a] ?? '')) a++;
  return [a, b];
}

/** The ranges of one string to remove: whole sentences for instruction rules, the span itself for character rules. */
export function rangesToRemove(text: string, findings: readonly ResultFinding[]): Array<[number, number]> {
  const ranges = findings
    .filter((f) => f.start >= 0 && f.end <= text.length && text.slice(f.start, f.end) === f.span)
    .map((f): [number, number] => (f.rule.startsWith('unicode/') ? [f.start, f.end] : sentenceAround(text, f.start, f.end)))
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    // Overlapping ranges, or ranges with only white space between them, become one marker.
    if (last && (r[0] <= last[1] || text.slice(last[1], r[0]).trim() === '')) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** `text` with the flagged ranges replaced by the marker. */
export function redactString(text: string, findings: readonly ResultFinding[]): string {
  let out = text;
  for (const [a, b] of rangesToRemove(text, findings).reverse()) {
    const gap = b < text.length && !/\s/u.test(text[b] ?? ' ') ? ' ' : '';
    out = out.slice(0, a) + REDACTION_MARKER + gap + out.slice(b);
  }
  return out;
}

/** A copy of a JSON value with the strings at the findings' paths redacted (`base` is the path prefix used when scanning). */
export function redactValue(value: unknown, findings: readonly ResultFinding[], base = ''): unknown {
  const byPath = new Map<string, ResultFinding[]>();
  for (const f of findings) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const fs = byPath.get(path);
      return fs ? redactString(v, fs) : v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, childPath(path, i)));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, childPath(path, k));
    return out;
  };
  return walk(value, base);
}
