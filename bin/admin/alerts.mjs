// mcp-admin's alert commands: `alerts list`, `alerts ack ID`, and `alerts tail` (follows the alert hub's WebSocket, GET /admin/alerts/live).
import { parseCount, parseDuration } from './args.mjs';
import { out, table } from './format.mjs';
import { api, CliError, EXIT, usage } from './http.mjs';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Help and options of the alert commands (merged into mcp-admin's COMMANDS). */
export const ALERT_COMMANDS = {
  'alerts list': {
    options: { limit: 'string', open: 'boolean' },
    args: [],
    summary: 'recent alerts of the alert hub (anomalies, detections), newest first',
    help: 'Usage: mcp-admin alerts list [--open] [--limit N] [--json]\n\n  --open      only alerts not yet acknowledged\n  --limit N   at most N alerts (1 to 1000; default 50)',
  },
  'alerts ack': { options: {}, args: ['ALERT_ID'], summary: 'acknowledge an alert (a repeat then opens a new one)', help: 'Usage: mcp-admin alerts ack ALERT_ID [--json]' },
  'alerts tail': {
    options: { 'max-events': 'string', timeout: 'string' },
    args: [],
    summary: 'follow the alert hub live (one line per new or updated alert)',
    help: `Usage: mcp-admin alerts tail [--max-events N] [--timeout T] [--json]

Connects to the alert hub's WebSocket and prints one line per new alert, repeat (count) or
acknowledgement, as the hub pushes them (within a second of the call that raised them).
  --max-events N        stop after N lines
  --timeout DURATION    stop after this long (1s to 7d)
  --json                one JSON line per alert (the hub's AlertView)`,
  },
};

/** Checks an alert command's options and arguments before any request. */
export function checkAlertCommand(name, options, args) {
  if (name === 'alerts list' && options.limit !== undefined) parseCount(options.limit, 'limit', 1, 1000);
  if (name === 'alerts ack' && !ALERT_ID.test(args[0])) throw usage(`'${args[0]}' is not an alert id (26 characters: digits and capital letters)`);
  if (name === 'alerts tail') {
    if (options['max-events'] !== undefined) parseCount(options['max-events'], 'max-events', 1, 1_000_000_000);
    if (options.timeout !== undefined) parseDuration(options.timeout, 'timeout', 1, 7 * 86_400);
  }
}

/** One readable line: time, severity, count, title, the first reason, state, id. */
export function alertLine(a, change) {
  const count = a.count > 1 ? ` ×${a.count}` : '';
  const state = a.acknowledged ? ` [acknowledged by ${a.acknowledged.by}]` : '';
  const reason = a.reasons?.[0] ? ` — ${a.reasons[0]}` : '';
  return `${a.last_seen}  ${change.padEnd(5)} ${a.severity.toUpperCase().padEnd(8)} ${a.title}${count}${reason}${state}  (${a.id})`;
}

export const RUN_ALERTS = {
  async 'alerts list'(ctx, o) {
    const query = new URLSearchParams({ limit: o.limit ?? '50', ...(o.open ? { open: 'true' } : {}) });
    const body = await api(ctx, 'GET', `alerts?${query}`);
    if (o.json) return out(JSON.stringify(body, null, 2));
    if (body.alerts.length === 0) return out('no alerts');
    out(table(['ID', 'LAST SEEN', 'SEVERITY', 'COUNT', 'STATE', 'TITLE'], body.alerts.map((a) => [a.id, a.last_seen, a.severity, String(a.count), a.acknowledged ? 'acked' : 'open', a.title])));
  },
  async 'alerts ack'(ctx, o, [id]) {
    const alert = await api(ctx, 'POST', `alerts/${id}/ack`, {});
    out(o.json ? JSON.stringify(alert, null, 2) : `acknowledged ${alert.id} (${alert.title}) by ${alert.acknowledged?.by ?? '?'} at ${alert.acknowledged?.at ?? '?'}`);
  },
  async 'alerts tail'(ctx, o) {
    const max = o['max-events'] === undefined ? Infinity : Number(o['max-events']);
    const timeoutMs = o.timeout === undefined ? undefined : parseDuration(o.timeout, 'timeout', 1, 7 * 86_400) * 1000;
    if (typeof WebSocket !== 'function') throw new CliError(EXIT.server, 'alerts tail needs a Node.js with WebSocket (22 or later; npm run admin uses the project\'s own)');
    const url = `${ctx.base.replace(/^http/, 'ws')}/admin/alerts/live`;
    const seen = new Map();
    let printed = 0;
    let first = true;
    await new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ctx.secret}`, 'user-agent': 'mcp-admin' } });
      const stop = () => {
        ws.close(1000, 'done');
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(stop, timeoutMs);
      process.once('SIGINT', stop);
      ws.addEventListener('message', (event) => {
        let message;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (message?.type !== 'cf_agent_state' || !Array.isArray(message.state?.alerts)) return;
        // Oldest first, so lines come in the order things happened.
        for (const a of [...message.state.alerts].reverse()) {
          const key = `${a.count}:${a.acknowledged ? 1 : 0}`;
          const before = seen.get(a.id);
          seen.set(a.id, key);
          // The first state is the backlog: remembered, not printed.
          if (first || before === key) continue;
          const change = before === undefined ? 'new' : a.acknowledged && !before.endsWith(':1') ? 'ack' : 'again';
          out(o.json ? JSON.stringify(a) : alertLine(a, change));
          if (++printed >= max) {
            if (timer) clearTimeout(timer);
            return stop();
          }
        }
        first = false;
      });
      ws.addEventListener('error', () => reject(new CliError(EXIT.server, `could not follow ${url} (is the server running, and the admin secret right?)`)));
      ws.addEventListener('close', () => {
        if (timer) clearTimeout(timer);
        resolve();
      });
    });
  },
};
