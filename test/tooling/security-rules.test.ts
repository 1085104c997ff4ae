// The security ESLint rules (eslint/security-rules.mjs) on code that breaks them and on the safe form of the same code.
import { ESLint, RuleTester, type Rule } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ES module without type declarations
import plugin, { isSecretName } from '../../eslint/security-rules.mjs';

RuleTester.describe = describe;
RuleTester.it = it;

const tester = new RuleTester({ languageOptions: { ecmaVersion: 2024, sourceType: 'module' } });
const rules = (plugin as { rules: Record<string, Rule.RuleModule> }).rules;
const secretName = isSecretName as (name: string) => boolean;

tester.run('no-string-built-sql', rules['no-string-built-sql']!, {
  valid: [
    // Placeholders, values apart: the only way data reaches SQL.
    'conn.query({ sql: "SELECT * FROM t WHERE id = ?", values: [id] });',
    'conn.query("SELECT * FROM t WHERE id = ?", [id]);',
    'this.ctx.storage.sql.exec("DELETE FROM t WHERE at < ?", now);',
    // A tool definition with a constant statement, also when split over lines or built from constants.
    'const ORDER = "priority DESC";\nsqlTool({ name: "x", sql: `SELECT a FROM t ORDER BY ${ORDER} LIMIT ?` });',
    'const RANK = "CASE priority END";\nconst q = { sql: `SELECT a FROM t ORDER BY ${RANK.replaceAll("priority", "t.priority")}` };',
    'db.select(`SELECT a FROM t WHERE b = ${byId ? "?" : "NULL"}`, [id]);',
    'conn.query(`CREATE DATABASE ${mysql.escapeId(name)}`);',
    // The guarded sql_select tool runs the user's checked statement: a value, not a built string.
    'ctx.db.select(checked.sql, [], limits);',
    // Not SQL: messages that happen to start with a verb.
    'throw new Error(`DELETE answered HTTP ${status}`);',
    'const re = /x/; re.exec(`${a}b`);',
    // A tagged template is the parameterising kind.
    'conn.query(sql`SELECT * FROM t WHERE id = ${id}`);',
  ],
  invalid: [
    { code: 'conn.query(`SELECT * FROM t WHERE name = \'${name}\'`);', errors: [{ messageId: 'built' }] },
    { code: 'conn.query("SELECT * FROM t WHERE id = " + id);', errors: [{ messageId: 'built' }] },
    { code: 'const q = `SELECT * FROM t WHERE id = ${id}`;\nconn.query(q);', errors: [{ messageId: 'built' }] },
    { code: 'this.ctx.storage.sql.exec(`SELECT event FROM audit_events ${where}`);', errors: 1 },
    { code: 'ctx.db.select(`SELECT * FROM ${table}`, [], limits);', errors: 1 },
    { code: 'sqlTool({ name: "x", sql: "SELECT a FROM t WHERE b = \'" + args.b + "\'" });', errors: 1 },
    // Built anywhere, then passed along: the string itself reads as SQL.
    'const statement = `INSERT INTO ${table} (a) VALUES (?)`;',
    'function wrap(sql) { return `SET STATEMENT max_statement_time=1 FOR ${sql}`; }',
  ].map((c) => (typeof c === 'string' ? { code: c, errors: 1 } : c)),
});

tester.run('no-unsafe-html', rules['no-unsafe-html']!, {
  valid: [
    'el.textContent = event.reason;',
    'el.innerHTML = "";',
    'el.innerHTML = `<p>Loading</p>`;',
    'el.insertAdjacentHTML("beforeend", "<hr>");',
    'const p = document.createElement("p"); p.textContent = name; list.append(p);',
  ],
  invalid: [
    { code: 'el.innerHTML = event.reason;', errors: [{ messageId: 'sink', data: { sink: 'innerHTML' } }] },
    { code: 'el.innerHTML = `<td>${row.user}</td>`;', errors: 1 },
    { code: 'el.innerHTML += "<li>" + name + "</li>";', errors: 1 },
    { code: 'el.outerHTML = html;', errors: [{ messageId: 'sink', data: { sink: 'outerHTML' } }] },
    { code: 'el.insertAdjacentHTML("beforeend", `<li>${alert.tool}</li>`);', errors: [{ messageId: 'sink', data: { sink: 'insertAdjacentHTML' } }] },
    { code: 'document.write(data);', errors: 1 },
  ],
});

tester.run('no-secret-in-logs', rules['no-secret-in-logs']!, {
  valid: [
    'console.log(JSON.stringify({ event: "token_rejected", reason: verified.reason }));',
    'console.log(JSON.stringify({ event: "api_key_refused", key_id: credential.keyId }));',
    'console.error({ token_id: claims.jti, has_token: true, tokenType: "Bearer" });',
    'class T { #audit() {} m() { this.#audit({ type: "auth.token_issued", actor: { token_id: jti, grant_id: grantId } }); } }',
    'log.info({ digest: sha256(refreshToken) });',
    'console.log(key, value);',
    'console.log({ code: error.code });',
    'notAlog(secret);',
  ],
  invalid: [
    { code: 'console.log(token);', errors: [{ messageId: 'secret', data: { name: 'token', sink: 'console.log' } }] },
    { code: 'console.log(JSON.stringify({ event: "x", token: refresh }));', errors: [{ messageId: 'secret', data: { name: 'token', sink: 'console.log' } }] },
    { code: 'console.error(`refresh failed for ${tokens.refreshToken}`);', errors: 1 },
    { code: 'console.debug("admin", env.ADMIN_SECRET);', errors: 1 },
    { code: 'console.log({ headers: { authorization: request.headers.get("authorization") } });', errors: 1 },
    { code: 'ctx.log("debug", { clientSecret });', errors: 1 },
    { code: 'logger.warn({ apiKey: key });', errors: 1 },
    { code: 'class T { #audit() {} m() { this.#audit({ type: "auth.code_issued", params: { code: authCode } }); } }', errors: 1 },
    { code: 'newEvent({ type: "key.created", params: { secret: created.secret } });', errors: 1 },
    { code: 'auditRefusal(request, { password });', errors: 1 },
    { code: 'console.log(String(codeVerifier).slice(0, 8));', errors: 1 },
  ],
});

describe('isSecretName', () => {
  it('names that hold a credential', () => {
    for (const name of ['token', 'accessToken', 'refresh_token', 'clientSecret', 'ADMIN_SECRET', 'password', 'apiKey', 'api_key', 'privateKey', 'authorization', 'authCode', 'codeVerifier', 'client_assertion', '#secret', 'set-cookie'])
      expect(secretName(name), name).toBe(true);
  });
  it('names that describe a credential without holding it', () => {
    for (const name of ['token_id', 'tokenId', 'keyId', 'key', 'code', 'error_code', 'hasToken', 'tokenType', 'secretHash', 'client_secret_expires_at', 'authorization_endpoint', 'codeChallenge', 'grantId'])
      expect(secretName(name), name).toBe(false);
  });
});

describe('eslint.config.js turns the scanners on', () => {
  it('a command-line file with eval, new Function, an HTML sink, built SQL and a logged secret gets each finding', { timeout: 60_000 }, async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    const code = [
      '// A fixture.',
      'export function f(x, el, conn, id, token) {',
      '  eval(x);',
      '  const g = new Function(x);',
      '  el.innerHTML = x;',
      '  conn.query("SELECT * FROM t WHERE id = " + id);',
      '  console.log(token);',
      '  return g;',
      '}',
      '',
    ].join('\n');
    const [result] = await eslint.lintText(code, { filePath: 'bin/fixture.mjs' });
    const rules = new Set(result?.messages.map((m) => m.ruleId));
    for (const rule of ['no-eval', 'no-new-func', 'security/detect-eval-with-expression', 'house-security/no-unsafe-html', 'house-security/no-string-built-sql', 'house-security/no-secret-in-logs']) expect(rules, rule).toContain(rule);
  });
});
