// Look-alike tool names (vet's shadowing check): exact, case, homoglyph and separator confusables, near misses.
import { describe, expect, it } from 'vitest';
import { editDistance, nameSkeleton, resemblance } from '../../../src/security/integrity/names.ts';

describe('resemblance', () => {
  it.each([
    ['sql_select', 'sql_select', 'exact'],
    ['SQL_Select', 'sql_select', 'case'],
    ['sql_se1ect', 'sql_select', 'confusable'],
    ['sql_sеlect', 'sql_select', 'confusable'], // Cyrillic е
    ['ѕql_select', 'sql_select', 'confusable'], // Cyrillic ѕ
    ['sql\u200B_select', 'sql_select', 'confusable'], // zero-width space
    ['list-tables', 'list_tables', 'confusable'],
    ['listTables', 'list_tables', 'confusable'], // case and separator together
    ['get_custorner', 'get_customer', 'confusable'], // rn for m
    ['ｓｑｌ_ｓｅｌｅｃｔ', 'sql_select', 'confusable'], // fullwidth (NFKC)
    ['get_forecasts', 'get_forecast', 'similar'],
    ['get_cutsomer', 'get_customer', 'similar'], // transposition
    ['find_custmers', 'find_customers', 'similar'],
  ] as const)('%s ~ %s: %s', (a, b, kind) => {
    expect(resemblance(a, b)).toBe(kind);
  });

  it.each([
    ['get_alerts', 'get_customer'],
    ['read', 'send'],
    ['list_orders', 'list_tables'],
    ['translate_text', 'sql_select'],
    ['get_a', 'get_b'], // short skeletons are compared by skeleton only
  ])('%s and %s are not look-alikes', (a, b) => {
    expect(resemblance(a, b)).toBeNull();
  });

  it('skeletons drop separators and invisible characters and fold homoglyphs', () => {
    expect(nameSkeleton('Get-Customer')).toBe(nameSkeleton('get_customer'));
    expect(nameSkeleton('a\u2060b')).toBe('ab');
  });

  it('edit distance counts a transposition as one edit', () => {
    expect(editDistance('abcd', 'abdc')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
