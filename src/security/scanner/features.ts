/**
 * Features of the learned layer: what the text asks a model to do (rule evidence, imperatives aimed at the model,
 * secrets, data flow, secrecy and their combinations), plus hashed word n-grams. Shared by scoring and training.
 */
import { PATTERN_RULES } from './rules.ts';
import type { Field, Hit } from './types.ts';

/** Rule ids that are also features (every pattern rule, the Unicode rules, the carrier parameter name). */
export const RULE_IDS: readonly string[] = [
  ...new Set([
    ...PATTERN_RULES.map((r) => r.id),
    'exfiltration/carrier-parameter',
    'unicode/invisible',
    'unicode/bidi',
    'unicode/homoglyph',
    'unicode/control',
  ]),
];

/** Hand-designed features beyond one-per-rule, in vector order. */
export const HAND_FEATURES = [
  'imperative',
  'second_person',
  'param_prose_imperative',
  'mentions_user',
  'sensitive_and_flow',
  'prerequisite_and_sensitive',
  'prerequisite_and_flow',
  'secrecy_and_action',
  'call_with_and_sensitive',
  'carrier_and_instruction',
  'session_rule_and_action',
  'high_severity',
  'two_hidden_signals',
  'two_kinds_of_evidence',
  'three_kinds_of_evidence',
] as const;

/** Named features, in vector order: rule counts then hand features. */
export const NAMED_FEATURES: readonly string[] = [...RULE_IDS.map((id) => `rule:${id}`), ...HAND_FEATURES];

/** Number of hash buckets for word n-grams. */
export const BUCKETS = 8192;

/** The sparse hashed part of a feature vector: parallel arrays, one entry per bucket used, with the first token seen there (for explanations). */
export interface Hashed {
  bucket: number[];
  value: number[];
  /** The first word that landed in the bucket; for a word pair, `second` holds the other word, else ''. */
  first: string[];
  second: string[];
  where: string[];
}

/** A feature vector: dense named part and sparse hashed part. */
export interface FeatureVector {
  named: number[];
  hashed: Hashed;
}

/** The token of hashed entry `i` as text. */
export function tokenAt(h: Hashed, i: number): string {
  const b = h.second[i];
  return b ? `${h.first[i]} ${b}` : (h.first[i] ?? '');
}

/** Bucket -> index into the current vector's arrays; reset after every call (scanning is synchronous). */
const SLOT = new Int32Array(BUCKETS).fill(-1);

const WORD = /[a-z][a-z0-9']*/gu;
const STOP = new Set(['the', 'a', 'an', 'of', 'to', 'and', 'or', 'in', 'for', 'on', 'with', 'is', 'are', 'be', 'by', 'as', 'at', 'it', 'this', 'that', 'from']);

/** FNV-1a, 32 bits. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Splits identifiers (snake, kebab, camel) into lower-case words. */
export function identifierWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/gu, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/u)
    .filter((w) => w.length > 1);
}

function addHashed(h: Hashed, code: number, first: string, second: string, where: string, weight: number): void {
  const b = code % BUCKETS;
  const i = SLOT[b] as number;
  if (i >= 0) h.value[i] = (h.value[i] as number) + weight;
  else {
    SLOT[b] = h.bucket.length;
    h.bucket.push(b);
    h.value.push(weight);
    h.first.push(first);
    h.second.push(second);
    h.where.push(where);
  }
}

/** The hash of a word pair from the hashes of its words (no string is built). */
export function pairHash(a: number, b: number): number {
  return (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35)) >>> 0;
}

/** Words that make a sentence an instruction to the model when they appear (counted per occurrence). */
const IMPERATIVE_WORDS = new Set(['must', 'always', 'never', 'should', 'ensure', 'required', 'mandatory', "don't"]);

/** The feature vector of a definition's fields and the rule hits found in them. */
export function featuresOf(fields: readonly Field[], hits: readonly Hit[]): FeatureVector {
  const counts = new Map<string, number>();
  let high = 0;
  let sensitive = false;
  let flow = false;
  let prereq = false;
  let hidden = false;
  let cross = false;
  let secrecy = false;
  let callWith = false;
  let secretWord = false;
  let carrier = false;
  let persistent = false;
  const kinds = new Set<string>();
  const hiddenKinds = new Set<string>();
  for (const h of hits) {
    const r = h.rule;
    counts.set(r, (counts.get(r) ?? 0) + 1);
    if (h.severity === 'high') high++;
    if (h.severity !== 'low') {
      kinds.add(r.slice(0, r.indexOf('/')));
      if (r.startsWith('hidden-instructions/')) hiddenKinds.add(r);
    }
    if (r === 'sensitive/env' || r === 'sensitive/path' || r === 'sensitive/shell' || r === 'sensitive/read-secret' || r === 'sensitive/conversation') sensitive = true;
    if (r === 'exfiltration/send' || r === 'exfiltration/append' || r === 'exfiltration/parameter' || r === 'exfiltration/hidden-copy' || r === 'exfiltration/url') flow = true;
    if (r === 'hidden-instructions/prerequisite') prereq = true;
    if (r.startsWith('hidden-instructions/')) hidden = true;
    if (r.startsWith('cross-tool/')) cross = true;
    if (r === 'hidden-instructions/secrecy') secrecy = true;
    if (r === 'cross-tool/call-with') callWith = true;
    if (r === 'sensitive/secret') secretWord = true;
    if (r === 'exfiltration/carrier-parameter') carrier = true;
    if (r === 'hidden-instructions/persistent') persistent = true;
  }

  const h: Hashed = { bucket: [], value: [], first: [], second: [], where: [] };
  for (const f of fields) {
    if (f.kind === 'name') for (const w of identifierWords(f.text)) addHashed(h, hash(`n:${w}`), `n:${w}`, '', f.where, 1);
    else if (f.kind === 'param-name') for (const w of identifierWords(f.text)) addHashed(h, hash(`p:${w}`), `p:${w}`, '', f.where, 0.5);
  }
  let imperative = 0;
  let second = 0;
  let user = 0;
  let paramImperative = 0;
  for (const f of fields) {
    if (f.kind !== 'prose') continue;
    const inSchema = f.where.startsWith('inputSchema');
    WORD.lastIndex = 0;
    const lower = f.text.toLowerCase();
    let prev = '';
    let prevHash = 0;
    let raw = '';
    for (let m = WORD.exec(lower); m; m = WORD.exec(lower)) {
      const t = m[0];
      const imp = IMPERATIVE_WORDS.has(t) || (t === 'not' && raw === 'do');
      const you = t === 'you' || t === 'your';
      if (imp) imperative++;
      if (you) second++;
      if ((t === 'user' || t === 'human') && raw === 'the') user++;
      if (inSchema && (imp || you)) paramImperative++;
      raw = t;
      if (STOP.has(t)) continue;
      const code = hash(t);
      addHashed(h, code, t, '', f.where, 1);
      if (prev) addHashed(h, pairHash(prevHash, code), prev, t, f.where, 1);
      prev = t;
      prevHash = code;
    }
  }
  // Sub-linear term frequency: long benign descriptions must not win by repetition.
  for (let i = 0; i < h.bucket.length; i++) {
    h.value[i] = Math.log1p(h.value[i] as number);
    SLOT[h.bucket[i] as number] = -1;
  }

  const action = flow || sensitive || cross;
  const instruction = prereq || hidden || paramImperative > 0;
  const hand: Record<(typeof HAND_FEATURES)[number], number> = {
    imperative: Math.log1p(imperative),
    second_person: Math.log1p(second),
    param_prose_imperative: Math.log1p(paramImperative),
    mentions_user: Math.log1p(user),
    sensitive_and_flow: sensitive && flow ? 1 : 0,
    prerequisite_and_sensitive: prereq && sensitive ? 1 : 0,
    prerequisite_and_flow: prereq && flow ? 1 : 0,
    secrecy_and_action: secrecy && action ? 1 : 0,
    call_with_and_sensitive: callWith && (sensitive || secretWord) ? 1 : 0,
    carrier_and_instruction: carrier && instruction ? 1 : 0,
    session_rule_and_action: persistent && action ? 1 : 0,
    high_severity: Math.log1p(high),
    two_hidden_signals: hiddenKinds.size >= 2 ? 1 : 0,
    two_kinds_of_evidence: kinds.size >= 2 ? 1 : 0,
    three_kinds_of_evidence: kinds.size >= 3 ? 1 : 0,
  };
  const named = new Array<number>(NAMED_FEATURES.length);
  for (let i = 0; i < RULE_IDS.length; i++) named[i] = Math.log1p(counts.get(RULE_IDS[i] as string) ?? 0);
  for (let i = 0; i < HAND_FEATURES.length; i++) named[RULE_IDS.length + i] = hand[HAND_FEATURES[i] as (typeof HAND_FEATURES)[number]];
  return { named, hashed: h };
}
