// mcp-admin's detection commands: `detections list` (the Sigma rules the server runs), `detections test` (the rules over a time range of the stored trail, hits printed; nothing recorded) and `detections run` (the server's scheduled run, now).
import { parseTime } from './args.mjs';
import { out, table } from './format.mjs';
import { api, usage } from './http.mjs';

/** The command table entries (merged into mcp-admin's COMMANDS). */
export const DETECTION_COMMANDS = {
  'detections list': { options: {}, args: [], summary: 'list the detection rules the server runs', help: 'Usage: mcp-admin detections list [--json]\n\nThe Sigma rules of detections/ that raise alerts (the building blocks a correlation refers to are left out): id, level, type, grouping and timespan.' },
  'detections test': {
    options: { since: 'string', until: 'string' },
    args: [],
    summary: 'run the rules over a time range of the stored trail and print the hits',
    help: `Usage: mcp-admin detections test [--since TIME] [--until TIME] [--json]

  --since TIME   start of the range (default 24h): an ISO time, a date (midnight UTC) or a duration ago (30m, 1h, 2d)
  --until TIME   end of the range (default now)

The server reads the stored trail in the range (through the same search as the audit export),
maps it to ECS and evaluates every rule; each hit is printed with its rule, group, window and
count. Nothing is recorded (the in-server schedule records detection.fired and raises alerts).`,
  },
  'detections run': {
    options: {},
    args: [],
    summary: "run the server's scheduled detections now (new hits recorded and alerted)",
    help: `Usage: mcp-admin detections run [--json]

The server runs its scheduled detection run now, whatever DETECTIONS_ENABLED says: the rules over
the last day of the stored trail; each hit not fired before becomes a detection.fired audit event
and an alert (a hit fires once, so running again adds nothing). Prints the range, the events
read, the hits and the new detection.fired ids.`,
  },
};

/** The query of `detections test` from its options, checked before any request. */
export function detectionRange(o, now) {
  const since = parseTime(o.since ?? '24h', 'since', now);
  const until = o.until === undefined ? now : parseTime(o.until, 'until', now);
  if (since >= until) throw usage(`--since (${new Date(since).toISOString()}) must be before --until (${new Date(until).toISOString()})`);
  return new URLSearchParams({ since: new Date(since).toISOString(), until: new Date(until).toISOString() });
}

/** The commands. */
export const RUN_DETECTIONS = {
  async 'detections list'(ctx, o) {
    const { rules } = await api(ctx, 'GET', 'detections');
    if (o.json) return out(JSON.stringify(rules, null, 2));
    out(table(['ID', 'LEVEL', 'TYPE', 'GROUP BY', 'SPAN', 'TITLE'], rules.map((r) => [r.id.slice(0, 8), r.level, r.type, (r.group_by ?? []).join(','), r.timespan ?? '', r.title])));
  },
  async 'detections test'(ctx, o) {
    const body = await api(ctx, 'GET', `detections/hits?${detectionRange(o, Date.now())}`);
    if (o.json) return out(JSON.stringify(body, null, 2));
    if (body.truncated) process.stderr.write(`mcp-admin: the range holds more events than one run reads; only the first ${body.events} were evaluated: narrow --since/--until.\n`);
    if (body.hits.length === 0) return out(`no hits in ${body.events} events (${body.since} .. ${body.until})`);
    out(table(['LEVEL', 'RULE', 'GROUP', 'FIRST', 'LAST', 'COUNT'], body.hits.map((h) => [h.level, h.title, Object.entries(h.group).map(([k, v]) => `${k}=${v}`).join(' '), h.window_start, h.window_end, String(h.count)])));
    out(`${body.hits.length} hit${body.hits.length === 1 ? '' : 's'} in ${body.events} events (${body.since} .. ${body.until})`);
  },
  async 'detections run'(ctx, o) {
    const run = await api(ctx, 'POST', 'detections/run');
    if (o.json) return out(JSON.stringify(run, null, 2));
    out(`${run.hits} hit${run.hits === 1 ? '' : 's'} in ${run.events} events (${run.since} .. ${run.until}), ${run.fired.length} new`);
    for (const id of run.fired) out(`fired ${id}`);
  },
};
