/** What the engine reads from one call: argument shape and size, per-key values, SQL identifiers, ids (pure, bounded work). */

/** One recorded or live tool call, as the engine sees it (`at` is the call's time in epoch milliseconds). */
export interface BaselineCall {
  readonly at: number;
  readonly tool: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly status: 'ok' | 'error' | 'denied';
  readonly rows?: number | undefined;
  readonly bytes?: number | undefined;
  readonly ip?: string | undefined;
  readonly userAgent?: string | undefined;
}

/** One argument as a feature: a number, or a string-like value with its length. */
export type ArgFeature = { readonly kind: 'num'; readonly value: number } | { readonly kind: 'text'; readonly value: string; readonly length: number };

/** Tables and columns a SELECT names, lower-cased; `star` when it selects `*`. */
export interface SqlFeatures {
  readonly tables: readonly string[];
  readonly columns: readonly string[];
}

/** Everything scored or learned from a call's arguments. */
export interface ArgFeatures {
  readonly shape: string;
  readonly keys: readonly string[];
  readonly size: number;
  readonly values: ReadonlyMap<string, ArgFeature>;
  /** Tables and columns touched: from a SELECT in `sql` (or a SELECT in `query`), and a `table` argument. */
  readonly sql: SqlFeatures | null;
}

const MAX_KEYS_READ = 32;
/** Longest tool name, argument key or address kept as such in the state (longer ones are cut). */
export const MAX_NAME = 64;
const MAX_TEXT_VALUE = 64;
const MAX_IDENTS = 32;
const MAX_SQL_SCAN = 8_192;

/** Reads a call's arguments. Work is bounded: at most 32 keys and the first 8 KiB of a SQL text. */
export function argFeatures(args: Readonly<Record<string, unknown>>): ArgFeatures {
  const raw = Object.keys(args).slice(0, MAX_KEYS_READ);
  const keys = [...new Set(raw.map((k) => k.slice(0, MAX_NAME)))].sort();
  const values = new Map<string, ArgFeature>();
  let sql: SqlFeatures | null = null;
  let size = 2;
  for (const key of raw) {
    const value = args[key];
    const k = key.slice(0, MAX_NAME);
    if (typeof value === 'number') {
      values.set(k, { kind: 'num', value });
      size += key.length + 4 + String(value).length;
    } else if (typeof value === 'string') {
      values.set(k, { kind: 'text', value: value.length > MAX_TEXT_VALUE ? '<long>' : value, length: value.length });
      size += key.length + 6 + value.length;
      if (key === 'sql' || key === 'query' && /^\s*(select|with)\b/i.test(value)) sql = sqlIdentifiers(value);
    } else {
      const text = safeJson(value);
      values.set(k, { kind: 'text', value: typeof value === 'boolean' || value === null ? String(value) : `<${Array.isArray(value) ? 'array' : 'object'}>`, length: text.length });
      size += key.length + 4 + text.length;
    }
  }
  // a table named as an argument (describe_table) is a table touched, like one in a SELECT
  const tableArg = raw.find((k) => /^table(_name)?$/i.test(k));
  const table = tableArg === undefined ? undefined : args[tableArg];
  if (typeof table === 'string' && table.length <= MAX_TEXT_VALUE) {
    const name = table.toLowerCase();
    sql = sql ? { tables: sql.tables.includes(name) ? sql.tables : [...sql.tables, name], columns: sql.columns } : { tables: [name], columns: [] };
  }
  return { shape: keys.join(','), keys, size, values, sql };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

const KEYWORDS = new Set(
  ('select from where and or not in is null like between join inner left right outer cross natural on using as group by order having ' +
    'limit offset distinct union all case when then else end asc desc exists with interval true false escape any some straight_join ' +
    'for update share lock mode into outfile dumpfile rollup over partition rows range preceding following current row window div mod xor regexp rlike binary collate')
    .split(' '),
);
// eslint-disable-next-line security/detect-unsafe-regex -- each repetition of a dotted name needs a literal '.', so matching stays linear
const TOKEN = /`([^`]*)`|'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|([A-Za-z_][A-Za-z0-9_$]*(?:\s*\.\s*(?:[A-Za-z_][A-Za-z0-9_$]*|`[^`]*`|\*))*)|(\*)|([(),])|\S/g;

/**
 * The tables (after FROM and JOIN) and columns a SELECT names: a cheap scan, not a parser.
 * Functions (a name before "(") and aliases are left out; qualified columns keep their last part.
 */
export function sqlIdentifiers(text: string): SqlFeatures {
  const tables = new Set<string>();
  const columns = new Set<string>();
  const aliases = new Set<string>();
  type Tok = { id: string; punct: string };
  const toks: Tok[] = [];
  for (const m of text.slice(0, MAX_SQL_SCAN).matchAll(TOKEN)) {
    if (m[1] !== undefined) toks.push({ id: m[1].toLowerCase(), punct: '' });
    else if (m[2] !== undefined) toks.push({ id: m[2].replace(/\s+/g, '').toLowerCase(), punct: '' });
    else if (m[3] !== undefined) toks.push({ id: '', punct: '*' });
    else if (m[4] !== undefined) toks.push({ id: '', punct: m[4] });
    else toks.push({ id: '', punct: '.' });
  }
  let expectTable = false;
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i] as Tok;
    const next = toks[i + 1];
    if (tok.punct === '*') {
      const prev = toks[i - 1];
      if (prev && (prev.id === 'select' || prev.id === 'distinct' || prev.punct === ',')) columns.add('*');
      continue;
    }
    if (tok.id === '') {
      if (tok.punct !== ',') expectTable = false;
      continue;
    }
    if (tok.id === 'from' || tok.id === 'join') {
      expectTable = true;
      continue;
    }
    if (KEYWORDS.has(tok.id)) {
      expectTable = false;
      continue;
    }
    if (next?.punct === '(') continue;
    if (expectTable) {
      if (tables.size < MAX_IDENTS) tables.add(tok.id);
      // optional alias: `t AS a` or `t a`, then a comma continues the FROM list
      let j = i + 1;
      if (toks[j]?.id === 'as') j++;
      const alias = toks[j];
      if (alias && alias.id && !KEYWORDS.has(alias.id)) {
        aliases.add(alias.id);
        j++;
      }
      i = j - 1;
      expectTable = toks[j]?.punct === ',';
      if (expectTable) i = j;
      continue;
    }
    if (toks[i - 1]?.id === 'as') continue;
    const last = tok.id.slice(tok.id.lastIndexOf('.') + 1);
    if (last === '*') columns.add('*');
    else if (columns.size < MAX_IDENTS && !/^\d/.test(last)) columns.add(last);
  }
  for (const alias of aliases) columns.delete(alias);
  return { tables: [...tables].sort(), columns: [...columns].sort() };
}

/** True when an argument key names an id (`id`, `customer_id`, `orderId`): walked in sequence, it is enumeration. */
export function isIdKey(key: string): boolean {
  return /(^|_)id$|[a-z]Id$/.test(key) || key === 'ID';
}
