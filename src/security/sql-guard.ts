/** Decides whether a piece of SQL is one read-only SELECT, before it goes near a database. Pure. */

/** Why a statement was refused; `message` is safe to show to the caller. */
export type SqlRejection = {
  ok: false;
  reason:
    | 'empty'
    | 'too_long'
    | 'multiple_statements'
    | 'not_select'
    | 'forbidden_keyword'
    | 'unterminated'
    | 'comment_directive';
  message: string;
};

/** A statement that passed: the text with a trailing semicolon and surrounding space removed. */
export type SqlAccepted = { ok: true; sql: string };

/** The SQL dialects the guard knows: they differ in backslash escapes inside strings. */
export type SqlDialect = 'mysql' | 'sqlite';

/** The longest statement accepted, in characters. */
export const MAX_SQL_LENGTH = 10_000;

// Keywords that write, lock, read server files, change session state or run other code.
const FORBIDDEN = new Set([
  'insert', 'update', 'delete', 'replace', 'merge', 'upsert',
  'create', 'drop', 'alter', 'truncate', 'rename', 'grant', 'revoke',
  'into', 'outfile', 'dumpfile', 'load_file', 'load',
  'lock', 'unlock', 'for', 'share',
  'set', 'call', 'do', 'handler', 'execute', 'prepare', 'deallocate', 'use',
  'attach', 'detach', 'pragma', 'vacuum', 'analyze', 'optimize', 'flush', 'kill', 'shutdown',
  'sleep', 'benchmark', 'get_lock', 'release_lock',
]);

type Token = { kind: 'word' | 'symbol'; text: string };

/**
 * Accepts exactly one SELECT (optionally introduced by WITH) and nothing else: no second
 * statement, no writes or locks (`FOR UPDATE`, `INTO OUTFILE`), no session changes, and no
 * MySQL executable comments (`/*! … *\/`), which MySQL runs as code.
 */
export function checkSelect(input: string, dialect: SqlDialect): SqlAccepted | SqlRejection {
  if (input.length > MAX_SQL_LENGTH) {
    return reject('too_long', `SQL is longer than ${MAX_SQL_LENGTH} characters`);
  }
  const lexed = lex(input, dialect);
  if (!lexed.ok) return lexed;
  const tokens = lexed.tokens;
  // One optional trailing semicolon; any other semicolon separates statements.
  const last = tokens.at(-1);
  const body = last?.kind === 'symbol' && last.text === ';' ? tokens.slice(0, -1) : tokens;
  if (body.length === 0) return reject('empty', 'SQL is empty');
  if (body.some((t) => t.kind === 'symbol' && t.text === ';')) {
    return reject('multiple_statements', 'only one statement is allowed');
  }
  const first = body[0];
  if (first?.kind !== 'word' || (first.text !== 'select' && first.text !== 'with')) {
    return reject('not_select', 'only SELECT statements are allowed');
  }
  const bad = body.find((t) => t.kind === 'word' && FORBIDDEN.has(t.text));
  if (bad) {
    return reject('forbidden_keyword', `keyword not allowed in a read-only query: ${bad.text.toUpperCase()}`);
  }
  if (first.text === 'with' && !body.some((t) => t.kind === 'word' && t.text === 'select')) {
    return reject('not_select', 'only SELECT statements are allowed');
  }
  const trimmed = input.trimEnd();
  const end = trimmed.endsWith(';') ? trimmed.length - 1 : trimmed.length;
  return { ok: true, sql: input.slice(0, end).trim() };
}

function reject(reason: SqlRejection['reason'], message: string): SqlRejection {
  return { ok: false, reason, message };
}

/** Splits SQL into lower-cased words and symbols, dropping comments, strings and quoted names. */
function lex(sql: string, dialect: SqlDialect): { ok: true; tokens: Token[] } | SqlRejection {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-' && (i + 2 >= sql.length || /\s/.test(sql[i + 2] as string))) {
      // MySQL reads `--` as a comment only before white space (`1--1` is arithmetic there).
      i = lineEnd(sql, i);
    } else if (c === '#') {
      // A comment in MySQL, not in SQLite: refuse rather than guess which one will run it.
      return reject('comment_directive', 'use -- or /* */ comments, not #');
    } else if (c === '/' && next === '*') {
      if (sql[i + 2] === '!' || sql[i + 2] === '+' || sql[i + 2] === 'M') {
        // /*! … */ runs as SQL in MySQL, /*M! … */ in MariaDB; /*+ … */ are optimizer hints.
        return reject('comment_directive', 'executable comments and optimizer hints are not allowed');
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) return reject('unterminated', 'unterminated comment');
      i = close + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      const close = quoteEnd(sql, i, c, dialect);
      if (close < 0) return reject('unterminated', 'unterminated quoted string or name');
      tokens.push({ kind: 'symbol', text: c === '`' ? 'name' : 'string' });
      i = close + 1;
    } else if (/[A-Za-z_$@]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$@]/.test(sql[j] as string)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j).toLowerCase() });
      i = j;
    } else {
      tokens.push({ kind: 'symbol', text: c });
      i++;
    }
  }
  return { ok: true, tokens };
}

function lineEnd(sql: string, from: number): number {
  const nl = sql.indexOf('\n', from);
  return nl < 0 ? sql.length : nl + 1;
}

/** Index of the closing quote, honouring doubled quotes and backslash escapes; -1 if none. */
function quoteEnd(sql: string, open: number, quote: string, dialect: SqlDialect): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\' && quote !== '`' && dialect === 'mysql') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i;
    } else {
      i++;
    }
  }
  return -1;
}
