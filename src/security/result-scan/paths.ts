/** JSON paths of strings inside a tool result, as the findings name them. */

/** The path of a child: `rows[3]`, `rows[3].subject`, or `["odd key"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/u.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}
