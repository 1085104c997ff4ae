/** The Overview's audit delivery section (issue 12): what the AuditStore measured, never a guess. */
import type { DeliveryView } from '../../audit/delivery-stats.ts';
import { barChart } from './charts.ts';
import { escapeHtml, when } from './layout.ts';

function ms(value: number | null): string {
  if (value === null) return '—';
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
}

function card(label: string, value: string, note: string, id: string): string {
  return `<div class="card" id="${id}"><p class="n">${escapeHtml(value)}</p><p>${escapeHtml(label)}</p><p class="muted">${escapeHtml(note)}</p></div>`;
}

/** Cards and a chart: delivery lag p50 / p95 / max and events per minute over the window, and the outboxes whose delivery is failing. */
export function deliverySection(d: DeliveryView): string {
  const failing = d.failing_outboxes > 0;
  const cards = [
    card('Delivery lag p50', ms(d.lag_p50_ms), `event time to delivered everywhere, last ${d.window_minutes} min (upper bound of its bucket)`, 'lag-p50'),
    card('Delivery lag p95 / max', `${ms(d.lag_p95_ms)} / ${ms(d.lag_max_ms)}`, `${d.delivered} events delivered in ${d.window_minutes} min`, 'lag-max'),
    card('Audit delivery backlog', String(d.pending), failing ? `events held by ${d.failing_outboxes} outbox(es) whose last delivery failed` : 'no outbox reports a failed delivery', 'backlog'),
  ].join('');
  const error = d.last_error ? `<p class="bad" id="delivery-error">Last delivery error ${when(d.last_error_at)}: ${escapeHtml(d.last_error)}</p>` : '';
  return `<section aria-labelledby="delivery"><h2 id="delivery">Audit delivery</h2><div class="cards">${cards}</div>${error}${barChart('Audit events delivered per minute', d.per_minute, '#2b6a3f', 'events')}
<p class="muted">Every object writes its events to its own outbox first; its alarm delivers them to the audit store and the SIEM webhook and reports each batch (the lag of each event) and each failed attempt to the audit store, which keeps an hour of it.</p></section>`;
}
