/** Which parts of a JSON value changed: a short list of JSON Pointers, for "what did this rug pull change". Pure. */

/** One difference between two JSON values. */
export interface Change {
  /** RFC 6901 JSON Pointer of the changed member ("" is the whole value). */
  path: string;
  change: 'added' | 'removed' | 'changed';
}

/** Differences between two JSON values: objects are compared member by member, anything else as a whole. */
export function jsonChanges(before: unknown, after: unknown, path = ''): Change[] {
  if (isObject(before) && isObject(after)) {
    const out: Change[] = [];
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const sub = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!(key in after)) out.push({ path: sub, change: 'removed' });
      else if (!(key in before)) out.push({ path: sub, change: 'added' });
      else out.push(...jsonChanges(before[key], after[key], sub));
    }
    return out;
  }
  return sameJson(before, after) ? [] : [{ path, change: 'changed' }];
}

/** Deep equality of JSON values (member order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
