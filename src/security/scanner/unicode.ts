/** Unicode rules: invisible characters (and the ASCII hidden in tag characters), bidi controls, control characters, mixed-script look-alike words. */
import type { Field, Hit } from './types.ts';

/** Characters that render as nothing: zero-width, word joiners, soft hyphen, fillers, tag characters, variation selectors 17-256. */
// eslint-disable-next-line security/detect-unsafe-regex, no-misleading-character-class -- a class of single invisible code points (the combining ones on purpose), no repetition
const INVISIBLE = /[\u00AD\u034F\u115F\u1160\u180E\u200B-\u200D\u2060-\u2064\u3164\uFEFF\uFFA0]|[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]/gu;
/** Bidi embeddings, overrides and isolates: they reorder what a reviewer sees. */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/gu;
/** Implicit direction marks: legitimate in right-to-left text, suspicious in an English tool description. */
const DIRECTION_MARK = /[\u200E\u200F\u061C]/gu;
/** C0/C1 controls other than tab and line breaks, including the escape that starts terminal sequences. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;
// eslint-disable-next-line no-control-regex -- any character outside ASCII, written as a range from NUL
const NON_ASCII = /[^\u0000-\u007F]/u;
const WORD = /[\p{L}\p{M}]+/gu;
const LATIN = /\p{Script=Latin}/u;
const LOOKALIKE_SCRIPTS: ReadonlyArray<[string, RegExp]> = [
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
];
const FULLWIDTH = /[\uFF01-\uFF5E]+/gu;

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text around [start, end) out to word boundaries, at most 40 characters each side. */
function around(text: string, start: number, end: number): string {
  let a = start;
  let b = end;
  while (a > 0 && start - a < 40 && !/\s/u.test(text[a - 1] ?? ' ')) a--;
  while (b < text.length && b - end < 40 && !/\s/u.test(text[b] ?? ' ')) b++;
  return text.slice(a, b);
}

/** At most this many runs (or words) are reported per rule and field. */
const MAX_RUNS = 8;

/** Runs of matches of a global regex as [start, end, chars] with neighbouring matches merged; at most MAX_RUNS. */
function runs(text: string, re: RegExp): Array<[number, number, string[]]> {
  const out: Array<[number, number, string[]]> = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const last = out[out.length - 1];
    if (last && last[1] === m.index) {
      last[1] = m.index + m[0].length;
      last[2].push(m[0]);
    } else if (out.length < MAX_RUNS) out.push([m.index, m.index + m[0].length, [m[0]]]);
    else break;
  }
  return out;
}

/** Tag characters U+E0020..U+E007E spell ASCII; returns what they spell. */
function decodeTags(chars: string[]): string {
  let s = '';
  for (const c of chars) {
    const cp = c.codePointAt(0) ?? 0;
    if (cp >= 0xe0020 && cp <= 0xe007e) s += String.fromCharCode(cp - 0xe0000);
  }
  return s;
}

function describe(chars: string[]): string {
  const names = [...new Set(chars.map((c) => hex(c.codePointAt(0) ?? 0)))];
  return names.slice(0, 4).join(', ') + (names.length > 4 ? ', …' : '');
}

/** Unicode hits in one field. Fast path: pure ASCII text has none except control characters. */
export function unicodeHits(field: Field): Hit[] {
  const { text, where } = field;
  const hits: Hit[] = [];
  for (const [s, e, chars] of runs(text, CONTROL)) {
    const esc = chars.includes('\u001b');
    hits.push({ rule: 'unicode/control', severity: esc ? 'high' : 'medium', where, span: around(text, s, e), message: `${chars.length} control character(s) (${describe(chars)})${esc ? ', including the escape that starts terminal sequences,' : ''} in ${where}` });
  }
  if (!NON_ASCII.test(text)) return hits;
  for (const [s, e, chars] of runs(text, INVISIBLE)) {
    if (where === 'description' && s === 0 && chars.length === 1 && chars[0] === '\uFEFF') continue;
    const hidden = decodeTags(chars);
    hits.push({
      rule: 'unicode/invisible',
      severity: 'high',
      where,
      span: around(text, s, e),
      message: `${chars.length} invisible character(s) (${describe(chars)}) in ${where}${hidden ? `; the tag characters spell "${hidden.slice(0, 120)}"` : ''}`,
    });
  }
  for (const [s, e, chars] of runs(text, BIDI)) {
    hits.push({ rule: 'unicode/bidi', severity: 'high', where, span: around(text, s, e), message: `bidirectional control(s) (${describe(chars)}) in ${where} change the order in which the text is shown` });
  }
  if (!/\p{Script=Arabic}|\p{Script=Hebrew}|\p{Script=Syriac}|\p{Script=Thaana}/u.test(text)) {
    for (const [s, e, chars] of runs(text, DIRECTION_MARK)) {
      hits.push({ rule: 'unicode/bidi', severity: 'medium', where, span: around(text, s, e), message: `direction mark(s) (${describe(chars)}) in ${where}, which has no right-to-left text` });
    }
  }
  WORD.lastIndex = 0;
  let mixed = 0;
  for (let m = WORD.exec(text); m && mixed < MAX_RUNS; m = WORD.exec(text)) {
    const word = m[0];
    if (!NON_ASCII.test(word)) continue;
    const hasLatin = LATIN.test(word);
    const other = LOOKALIKE_SCRIPTS.filter(([, re]) => re.test(word)).map(([n]) => n);
    if ((hasLatin && other.length > 0) || other.length > 1) {
      mixed++;
      hits.push({ rule: 'unicode/homoglyph', severity: 'high', where, span: word, message: `the word "${word}" in ${where} mixes ${hasLatin ? 'Latin and ' : ''}${other.join(' and ')} letters (look-alike characters)` });
    } else if (field.kind !== 'prose' && other.length > 0) {
      mixed++;
      hits.push({ rule: 'unicode/homoglyph', severity: 'high', where, span: word, message: `the identifier "${text}" (${where}) uses ${other.join(' and ')} letters that can pass for Latin ones` });
    }
  }
  for (const [s, e] of runs(text, FULLWIDTH)) {
    hits.push({ rule: 'unicode/homoglyph', severity: field.kind === 'prose' ? 'medium' : 'high', where, span: text.slice(s, e), message: `full-width Latin characters in ${where} imitate ordinary ones` });
  }
  return hits;
}
