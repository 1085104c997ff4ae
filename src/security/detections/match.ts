/** Matching one document against a Sigma detection: field values with modifiers, selections, and the condition expression. Pure. */
import type { DetectionRule, Doc, Selection, SigmaValue } from './types.ts';
import { parseCondition, type ConditionNode } from './condition.ts';

/** The value at a dotted ECS path (`source.ip`, `mcp.params.count`); a key with dots at the top level (`@timestamp`) is read as is. */
export function fieldValue(doc: Doc, path: string): unknown {
  if (Object.hasOwn(doc, path)) return doc[path];
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const MODIFIERS = new Set(['contains', 'startswith', 'endswith', 're', 'gt', 'gte', 'lt', 'lte', 'exists', 'all', 'cased']);

/** Sigma's plain-value wildcards (`*`, `?`; `\` escapes) as a case-insensitive regular expression. */
function wildcard(pattern: string, cased: boolean): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? '';
    if (ch === '\\' && i + 1 < pattern.length) out += (pattern[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  // eslint-disable-next-line security/detect-non-literal-regexp -- built from a rule's own pattern with every metacharacter escaped
  return new RegExp(`^${out}$`, cased ? 's' : 'is');
}

const regexCache = new Map<string, RegExp>();

function compiled(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    // eslint-disable-next-line security/detect-non-literal-regexp -- the `re` modifier: the pattern comes from a checked-in rule, never from a request
    re = new RegExp(source);
    regexCache.set(source, re);
  }
  return re;
}

/** One scalar from the document against one rule value under the modifiers. */
function scalarMatches(actual: unknown, expected: SigmaValue, mods: string[]): boolean {
  const cased = mods.includes('cased');
  if (expected === null) return actual === undefined || actual === null;
  if (actual === undefined || actual === null) return false;
  const numeric = mods.find((m) => m === 'gt' || m === 'gte' || m === 'lt' || m === 'lte');
  if (numeric) {
    const a = typeof actual === 'number' ? actual : Number(actual);
    const e = Number(expected);
    if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
    return numeric === 'gt' ? a > e : numeric === 'gte' ? a >= e : numeric === 'lt' ? a < e : a <= e;
  }
  if (typeof actual !== 'string' && typeof actual !== 'number' && typeof actual !== 'boolean') return false;
  const text = String(actual);
  const want = String(expected);
  if (mods.includes('re')) return compiled(want).test(text);
  const fold = (s: string) => (cased ? s : s.toLowerCase());
  if (mods.includes('contains')) return fold(text).includes(fold(want));
  if (mods.includes('startswith')) return fold(text).startsWith(fold(want));
  if (mods.includes('endswith')) return fold(text).endsWith(fold(want));
  if (typeof expected === 'number' || typeof expected === 'boolean') return text === want;
  return wildcard(want, cased).test(text);
}

/** A field item (`field|mod|mod`: value or list) against a document. Lists are OR, or AND with `|all`. */
export function fieldMatches(doc: Doc, key: string, expected: SigmaValue | SigmaValue[]): boolean {
  const [field = '', ...mods] = key.split('|');
  for (const m of mods) if (!MODIFIERS.has(m)) throw new Error(`unsupported modifier |${m}`);
  const actual = fieldValue(doc, field);
  if (mods.includes('exists')) return (actual !== undefined && actual !== null) === (expected === true || expected === 'true');
  const values = Array.isArray(expected) ? expected : [expected];
  // A field holding a list (event.type, related.ip) matches when any of its items does.
  const actuals = Array.isArray(actual) ? actual : [actual];
  const one = (v: SigmaValue) => actuals.some((a) => scalarMatches(a, v, mods));
  return mods.includes('all') ? values.every(one) : values.some(one);
}

/** A selection against a document: every item of a map (AND); a list of maps is OR. */
export function selectionMatches(doc: Doc, selection: Selection): boolean {
  const maps = Array.isArray(selection) ? selection : [selection];
  return maps.some((map) => Object.entries(map).every(([key, value]) => fieldMatches(doc, key, value)));
}

function globNames(names: string[], pattern: string): string[] {
  if (pattern === 'them') return names;
  const re = wildcard(pattern, true);
  return names.filter((n) => re.test(n));
}

function evaluate(node: ConditionNode, doc: Doc, selections: Map<string, Selection>, names: string[]): boolean {
  switch (node.kind) {
    case 'ref': {
      const selection = selections.get(node.name);
      if (!selection) throw new Error(`the condition names an unknown selection '${node.name}'`);
      return selectionMatches(doc, selection);
    }
    case 'not':
      return !evaluate(node.operand, doc, selections, names);
    case 'and':
      return evaluate(node.left, doc, selections, names) && evaluate(node.right, doc, selections, names);
    case 'or':
      return evaluate(node.left, doc, selections, names) || evaluate(node.right, doc, selections, names);
    case 'of': {
      const matched = globNames(names, node.pattern).map((n) => evaluate({ kind: 'ref', name: n }, doc, selections, names));
      return node.quantifier === 'all' ? matched.length > 0 && matched.every(Boolean) : matched.some(Boolean);
    }
  }
}

/** A compiled detection rule: `matches(doc)`. */
export interface CompiledDetection {
  rule: DetectionRule;
  matches(doc: Doc): boolean;
}

/** Parses the rule's condition once and returns its matcher. */
export function compileDetection(rule: DetectionRule): CompiledDetection {
  const { condition, ...rest } = rule.detection;
  const selections = new Map(Object.entries(rest).filter((e): e is [string, Selection] => typeof e[1] === 'object' && e[1] !== null));
  const names = [...selections.keys()];
  const tree = parseCondition(condition);
  return { rule, matches: (doc) => evaluate(tree, doc, selections, names) };
}
