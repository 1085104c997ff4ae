/** Building audit events: the delegation chain from a principal, request facts, ids and time. */
import { z } from 'zod';
import type { Principal } from '../mcp/principal.ts';
import { eventId, type Actor, type AuditEvent } from './event.ts';
import { sanitizeReason } from './redact.ts';

/** Facts about the HTTP request behind an event. */
export const RequestMetaSchema = z.object({ requestId: z.string().optional(), ip: z.string().optional(), userAgent: z.string().optional(), sessionId: z.string().optional() });

/** Parsed request facts. */
export type RequestMeta = z.infer<typeof RequestMetaSchema>;

/** Reads the request id (Cloudflare's ray id, or a fresh one), client address and user agent. */
export function requestMeta(request: Request): RequestMeta {
  const ray = request.headers.get('cf-ray');
  const ip = request.headers.get('cf-connecting-ip');
  const ua = request.headers.get('user-agent');
  return {
    requestId: ray ?? crypto.randomUUID(),
    ...(ip ? { ip } : {}),
    ...(ua ? { userAgent: ua.slice(0, 300) } : {}),
  };
}

/** The delegation chain of a principal: the person, the client or agent, and the credential. */
export function actorOf(p: Principal): Actor {
  if (p.kind === 'agent') return { agent_id: p.agentId, agent_name: p.agentName, key_id: p.keyId, owner: p.owner, user_id: p.owner };
  return {
    user_id: p.id,
    client_id: p.clientId,
    token_id: p.tokenId,
    grant_id: p.grantId,
    ...(p.upstream ? { upstream_issuer: p.upstream.issuer, upstream_subject: p.upstream.subject } : {}),
    ...(p.email ? { email: p.email } : {}),
  };
}

/** What an emitter supplies; id, version and time are added. */
export type EventInput = Omit<AuditEvent, 'v' | 'id' | 'time' | 'request_id' | 'client_ip' | 'user_agent'> & { meta?: RequestMeta | undefined };

// Monotonic within an isolate: events made in the same millisecond keep their order.
let lastTime = 0;
let lastRandom = new Uint8Array(10);

function nextId(now: number): string {
  if (now <= lastTime) {
    const next = lastRandom.slice();
    for (let i = next.length - 1; i >= 0; i--) {
      next[i] = ((next[i] ?? 0) + 1) & 0xff;
      if (next[i] !== 0) break;
    }
    lastRandom = next;
    return eventId(lastTime, next);
  }
  lastTime = now;
  lastRandom = crypto.getRandomValues(new Uint8Array(10));
  // Leave room to count up within this millisecond.
  lastRandom[0] = (lastRandom[0] ?? 0) & 0x7f;
  return eventId(now, lastRandom);
}

/** A complete event with a fresh sortable id (ids from one isolate increase strictly). */
export function newEvent(input: EventInput, now = Date.now()): AuditEvent {
  const { meta, ...rest } = input;
  return {
    v: 1,
    id: nextId(now),
    time: new Date(now).toISOString(),
    ...rest,
    ...(rest.reason !== undefined ? { reason: sanitizeReason(rest.reason) } : {}),
    ...(rest.session_id === undefined && meta?.sessionId ? { session_id: meta.sessionId } : {}),
    ...(meta?.requestId ? { request_id: meta.requestId } : {}),
    ...(meta?.ip ? { client_ip: meta.ip } : {}),
    ...(meta?.userAgent ? { user_agent: meta.userAgent } : {}),
  };
}
