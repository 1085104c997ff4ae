// The SELECT-only guard: what it lets through and what it refuses, per dialect.
import { describe, expect, it } from 'vitest';
import { checkSelect, MAX_SQL_LENGTH } from '../../src/security/sql-guard.ts';

describe('checkSelect accepts', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    ['  select * from customers where id = 3 ;  ', 'select * from customers where id = 3'],
    ["SELECT name FROM customers WHERE name = 'O''Brien; DROP TABLE x'", "SELECT name FROM customers WHERE name = 'O''Brien; DROP TABLE x'"],
    ['WITH t AS (SELECT id FROM orders) SELECT COUNT(*) FROM t', 'WITH t AS (SELECT id FROM orders) SELECT COUNT(*) FROM t'],
    ['SELECT 1 -- a comment; DROP TABLE x\n', 'SELECT 1 -- a comment; DROP TABLE x'],
    ['SELECT `update` FROM t', 'SELECT `update` FROM t'],
    ['SELECT 1--1', 'SELECT 1--1'],
  ])('%j', (input, sql) => {
    expect(checkSelect(input, 'mysql')).toEqual({ ok: true, sql });
  });
});

describe('checkSelect refuses', () => {
  it.each([
    ['', 'empty'],
    ['  ;', 'empty'],
    ['SELECT 1; SELECT 2', 'multiple_statements'],
    ['SELECT 1;;', 'multiple_statements'],
    ['DELETE FROM customers', 'not_select'],
    ['UPDATE customers SET name = 1', 'not_select'],
    ['INSERT INTO t VALUES (1)', 'not_select'],
    ['DROP TABLE customers', 'not_select'],
    ['SHOW GRANTS', 'not_select'],
    ['(SELECT 1)', 'not_select'],
    ['SELECT * FROM customers FOR UPDATE', 'forbidden_keyword'],
    ["SELECT * INTO OUTFILE '/tmp/x' FROM customers", 'forbidden_keyword'],
    ["SELECT LOAD_FILE('/etc/passwd')", 'forbidden_keyword'],
    ['SELECT SLEEP(10)', 'forbidden_keyword'],
    ['WITH d AS (SELECT 1) DELETE FROM customers', 'forbidden_keyword'],
    ['SELECT 1 /*! ; DROP TABLE customers */', 'comment_directive'],
    ['SELECT /*+ MAX_EXECUTION_TIME(1) */ 1', 'comment_directive'],
    ['SELECT 1 # comment', 'comment_directive'],
    ["SELECT 'unterminated", 'unterminated'],
    ['SELECT 1 /* open', 'unterminated'],
    ['SELECT 1--1; DROP TABLE customers', 'multiple_statements'],
  ])('%j as %s', (input, reason) => {
    const result = checkSelect(input, 'mysql');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.message.length).toBeGreaterThan(5);
    }
  });

  it('a statement longer than the limit', () => {
    const result = checkSelect(`SELECT '${'x'.repeat(MAX_SQL_LENGTH)}'`, 'mysql');
    expect(result).toMatchObject({ ok: false, reason: 'too_long' });
  });

  it('a backslash-escaped quote hiding a second statement from SQLite', () => {
    // MySQL reads one string; SQLite ends the string at the second quote and would see DROP.
    const sql = "SELECT '\\'; DROP TABLE customers; --'";
    expect(checkSelect(sql, 'mysql')).toMatchObject({ ok: true });
    expect(checkSelect(sql, 'sqlite')).toMatchObject({ ok: false });
  });
});
