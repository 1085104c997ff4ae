/** GET /admin/detections (the rules), GET /admin/detections/hits (the rules run over a time range of the stored trail, nothing recorded) and POST /admin/detections/run (the scheduled run, now): for `npm run admin -- detections list|test|run`. */
import { z } from 'zod';
import { findHits, portReader, ruleSet } from '../detections/run.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';

const RangeSchema = z.strictObject({ since: z.iso.datetime(), until: z.iso.datetime().optional() });

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** The rules that alert (not the building blocks a correlation refers to), with what a reader needs to judge a hit. */
function listRules(): Response {
  const set = ruleSet();
  const rules = set.rules
    .filter((r) => !set.referenced.has(r.id) && !(r.name && set.referenced.has(r.name)))
    .map((r) => ({
      id: r.id,
      title: r.title,
      level: r.level ?? 'medium',
      type: r.kind === 'correlation' ? r.correlation.type : 'event',
      ...(r.kind === 'correlation' ? { group_by: r.correlation['group-by'], timespan: r.correlation.timespan, condition: r.correlation.condition ?? null } : {}),
      tags: r.tags ?? [],
      description: r.description ?? '',
    }));
  return json({ rules });
}

/** The paths handled here. */
export function isDetectionsRoute(path: string): boolean {
  return path === '/admin/detections' || path === '/admin/detections/hits' || path === '/admin/detections/run';
}

/**
 * POST /admin/detections/run: the AuditStore runs the rules now, exactly as its alarm does (new
 * hits recorded as detection.fired and sent to the alert hub, each hit once); answers the run.
 * It runs whatever DETECTIONS_ENABLED says (that setting governs the schedule only).
 */
async function runNow(env: Env): Promise<Response> {
  const run = await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).runDetections();
  return json(run);
}

/** Handles /admin/detections, /admin/detections/hits (GET) and /admin/detections/run (POST). */
export async function handleDetections(request: Request, env: Env, path: string): Promise<Response> {
  if (path === '/admin/detections/run') return request.method === 'POST' ? runNow(env) : adminError('method_not_allowed', 'use POST');
  if (request.method !== 'GET') return adminError('method_not_allowed', 'use GET');
  if (path === '/admin/detections') return listRules();
  if (path !== '/admin/detections/hits') return adminError('not_found', 'unknown admin endpoint');
  const parsed = RangeSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return adminError('invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
  const since = new Date(parsed.data.since).toISOString();
  const until = new Date(parsed.data.until ?? Date.now()).toISOString();
  if (since >= until) return adminError('invalid_request', 'since must be before until');
  const { hits, events, truncated } = await findHits(portReader(env), since, until);
  return json({
    since,
    until,
    events,
    truncated,
    hits: hits.map((h) => ({ rule_id: h.ruleId, title: h.title, level: h.level, group: h.group, window_start: h.windowStart, window_end: h.windowEnd, count: h.count, event_ids: h.eventIds })),
  });
}
