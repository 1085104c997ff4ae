/** Small charts drawn on the server as inline SVG (no script, no styles: presentation attributes only). */
import { escapeHtml } from './layout.ts';

/** A bar chart of `values` (one bar per minute, oldest first) with a title and a text summary for screen readers. */
export function barChart(title: string, values: readonly number[], color: string, unit: string): string {
  const width = 480;
  const height = 120;
  const max = Math.max(1, ...values);
  const bar = width / Math.max(1, values.length);
  const total = values.reduce((a, b) => a + b, 0);
  const bars = values
    .map((v, i) => {
      const h = Math.round((v / max) * (height - 20));
      return `<rect x="${(i * bar).toFixed(1)}" y="${height - h}" width="${Math.max(1, bar - 1).toFixed(1)}" height="${h}" fill="${color}"><title>${v} ${escapeHtml(unit)}</title></rect>`;
    })
    .join('');
  const summary = `${total} ${unit} in the last ${values.length} minutes, at most ${max === 1 && total === 0 ? 0 : max} in one minute`;
  return `<figure><svg role="img" aria-label="${escapeHtml(`${title}: ${summary}`)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="#6b7080"/>${bars}<text x="4" y="14" font-size="12" fill="#1b1b1f">max ${max}/min</text></svg><figcaption>${escapeHtml(title)}: ${escapeHtml(summary)}.</figcaption></figure>`;
}
