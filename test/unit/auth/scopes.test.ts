// Scope strings: parsing, formatting, subsets, and agreement with the tools' scope names.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Scope } from '../../../src/mcp/catalog.ts';
import { formatScope, isOAuthScope, isSubset, parseScope, SCOPES } from '../../../src/auth/scopes.ts';
import type { OAuthScope } from '../../../src/auth/scopes.ts';

describe('SCOPES', () => {
  it('are exactly the tools\' scope names', () => {
    expectTypeOf<OAuthScope>().toEqualTypeOf<Scope>();
    expect(SCOPES).toEqual(['support:read', 'sql:read']);
  });

  it.each([
    ['support:read', true],
    ['sql:read', true],
    ['SQL:READ', false],
    ['sql:write', false],
    ['', false],
    ['toString', false],
    ['__proto__', false],
  ])('isOAuthScope(%j) is %s', (value, known) => {
    expect(isOAuthScope(value)).toBe(known);
  });
});

describe('parseScope accepts', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['   ', []],
    ['support:read', ['support:read']],
    ['sql:read support:read', ['sql:read', 'support:read']],
    ['support:read sql:read', ['support:read', 'sql:read']],
    ['support:read support:read', ['support:read']],
    ['sql:read support:read sql:read', ['sql:read', 'support:read']],
    ['  support:read   sql:read ', ['support:read', 'sql:read']],
  ] as const)('%j → %j', (value, scopes) => {
    expect(parseScope(value)).toEqual({ ok: true, scopes });
  });
});

describe('parseScope refuses', () => {
  it.each([
    ['admin', ['admin']],
    ['support:read admin', ['admin']],
    ['admin support:read root admin', ['admin', 'root']],
    ['SUPPORT:READ', ['SUPPORT:READ']],
    ['support:read,sql:read', ['support:read,sql:read']],
    ['support:read\tsql:read', ['support:read\tsql:read']],
    ['support:read\nsql:read', ['support:read\nsql:read']],
    ['openid', ['openid']],
    ['constructor', ['constructor']],
  ])('%j, listing the unknown %j', (value, unknown) => {
    expect(parseScope(value)).toEqual({ ok: false, unknown });
  });
});

describe('formatScope', () => {
  it.each([
    [[], ''],
    [['support:read'], 'support:read'],
    [['sql:read', 'support:read'], 'sql:read support:read'],
    [['sql:read', 'sql:read'], 'sql:read'],
  ] as const)('%j → %j', (scopes, text) => {
    expect(formatScope(scopes)).toBe(text);
  });

  it('round-trips through parseScope', () => {
    expect(parseScope(formatScope(['sql:read', 'support:read']))).toEqual({ ok: true, scopes: ['sql:read', 'support:read'] });
  });
});

describe('isSubset', () => {
  it.each([
    [[], [], true],
    [[], ['sql:read'], true],
    [['sql:read'], ['sql:read', 'support:read'], true],
    [['support:read', 'sql:read'], ['sql:read', 'support:read'], true],
    [['sql:read'], [], false],
    [['sql:read'], ['support:read'], false],
    [['sql:read', 'support:read'], ['support:read'], false],
  ] as const)('%j within %j is %s', (requested, granted, result) => {
    expect(isSubset(requested, granted)).toBe(result);
  });
});
