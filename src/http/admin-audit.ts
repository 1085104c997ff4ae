/** GET /admin/audit/events: the audit trail as NDJSON (raw, OCSF or ECS) since a cursor, with filters; for SIEM pulls and `npm run admin -- audit`. */
import { z } from 'zod';
import { AUDIT_TYPES } from '../audit/event.ts';
import { toEcs } from '../audit/ecs.ts';
import { toOcsf } from '../audit/ocsf.ts';
import { readAudit } from '../audit/sink.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';
import { SERVER_INFO } from '../mcp/server.ts';

const QuerySchema = z.strictObject({
  after: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'an event id').optional(),
  cursor: z.coerce.number().int().min(0).optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  user: z.string().max(200).optional(),
  agent: z.string().max(200).optional(),
  tool: z.string().max(100).optional(),
  type: z.enum(AUDIT_TYPES).optional(),
  outcome: z.enum(['success', 'failure', 'denied']).optional(),
  format: z.enum(['raw', 'ocsf', 'ecs']).default('raw'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/**
 * Events one JSON object per line. Without `cursor`: in id (time) order, and `X-Next-Cursor` is
 * the last id sent (pass it as `after`). With `cursor`: in delivery order, for continuous export;
 * `X-Delivery-Cursor` is what to pass next. The body is empty when there is nothing new.
 */
export async function handleAuditExport(request: Request, env: Env): Promise<Response> {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = QuerySchema.safeParse(params);
  if (!parsed.success) {
    const description = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
    return adminError('invalid_request', description);
  }
  const { format, ...query } = parsed.data;
  const rows = await readAudit(env, query);
  const product = { name: SERVER_INFO.name, version: SERVER_INFO.version };
  const lines = rows.map(({ event: e }) => JSON.stringify(format === 'ocsf' ? toOcsf(e, product) : format === 'ecs' ? toEcs(e) : e));
  const headers = new Headers({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const last = rows.at(-1);
  if (last) headers.set('x-next-cursor', last.event.id);
  // Delivery order: a puller that passes this back as `cursor` misses nothing, even events
  // delivered late (after a store outage) with an older id.
  if (query.cursor !== undefined) headers.set('x-delivery-cursor', String(last ? last.seq : query.cursor));
  return new Response(lines.length > 0 ? `${lines.join('\n')}\n` : '', { headers });
}
