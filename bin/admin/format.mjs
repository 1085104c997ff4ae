// Text output of mcp-admin: stdout lines, tables, times and durations.

export const DAY = 86_400;

export function formatSeconds(s) {
  const unit = [['d', DAY], ['h', 3600], ['m', 60]].find(([, size]) => s > 0 && s % size === 0);
  return unit ? `${s / unit[1]}${unit[0]}` : `${s}s`;
}

export const when = (iso) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'never');
export const out = (text) => process.stdout.write(`${text}\n`);

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
