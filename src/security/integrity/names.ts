/** Look-alike tool names: exact and case collisions, homoglyph and separator confusables, and near misses by edit distance. Pure. */

/** How two tool names resemble each other, strongest first. */
export type NameResemblance = 'exact' | 'case' | 'confusable' | 'similar';

// Characters that render like Latin letters or digits in common fonts (Unicode confusables, the
// subset that appears in identifiers), mapped to the Latin letter they imitate.
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', ϲ: 'c',
  // Latin look-alikes and digits read as letters
  ı: 'i', ł: 'l', '0': 'o', '1': 'l', '|': 'l', '3': 'e', '5': 's', '$': 's', '@': 'a',
};

// Invisible characters that change a name without changing how it looks.
// eslint-disable-next-line no-misleading-character-class -- a class of single invisible code points; the combining ones are listed on purpose
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF]/gu;

/**
 * The skeleton of a name: NFKC, invisible characters removed, lower case, homoglyphs folded to
 * the Latin letter they imitate, `i` and `l` merged, `rn`→`m` and `vv`→`w`, separators dropped.
 * Two names with the same skeleton look the same to a person or a model reading a tool list.
 */
export function nameSkeleton(name: string): string {
  let out = '';
  for (const ch of name.normalize('NFKC').replace(INVISIBLE, '').toLowerCase()) out += HOMOGLYPHS[ch] ?? ch;
  return out
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\s_\-.:/]+/g, '')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/i/g, 'l');
}

/** Damerau–Levenshtein distance (optimal string alignment) between two strings, by code point. */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[s.length] as number[])[t.length] as number;
}

/**
 * How `a` resembles `b`, or null. `similar` means the skeletons are one edit apart (two for
 * skeletons of 10 or more characters); names under 5 characters are only compared exactly and by skeleton.
 */
export function resemblance(a: string, b: string): NameResemblance | null {
  if (a === b) return 'exact';
  if (a.toLowerCase() === b.toLowerCase()) return 'case';
  const sa = nameSkeleton(a);
  const sb = nameSkeleton(b);
  if (sa === sb) return 'confusable';
  const shortest = Math.min(sa.length, sb.length);
  if (shortest < 5) return null;
  return editDistance(sa, sb) <= (shortest >= 10 ? 2 : 1) ? 'similar' : null;
}
