/**
 * Enforcement arithmetic shared by a session (durable/session-baseline.ts) and a stateless
 * 2026-07-28 call (src/http/mcp-modern-baseline.ts): starting an enforcement after an alert, and
 * whether a call is refused under one. Pure: the caller passes `now` and the throttle bucket.
 */
import { fullBucket, take, type BucketState } from '../auth/rate-bucket.ts';
import type { Enforcement } from '../contracts/principal-baseline.ts';
import type { AnomalyPolicy } from './anomaly-policy.ts';

/** Why a call is refused before its tool runs. */
export interface AnomalyRefusal {
  action: 'throttle' | 'block' | 'reauth';
  until: number;
  retryAfterSeconds: number;
}

/** The enforcement an alert starts under `action`, lasting the policy's duration. */
export function startEnforcement(policy: AnomalyPolicy, action: Enforcement['action'], now: number, eventId: string, reasons: readonly string[]): Enforcement {
  return { action, until: now + policy.duration_seconds * 1000, event_id: eventId, reason: reasons.join('; ').slice(0, 500) };
}

/** The enforcement still in force at `now`, or null. */
export function inForce(enforcement: Enforcement | null | undefined, now: number): Enforcement | null {
  return enforcement && enforcement.until > now ? enforcement : null;
}

/**
 * A refusal under the enforcement, or null when a throttled call still has a token in `bucket`
 * (undefined: a full bucket); `bucket` is the throttle's state after this call.
 */
export function enforce(policy: AnomalyPolicy, enforcement: Enforcement, now: number, bucket: BucketState | undefined): { refusal: AnomalyRefusal | null; bucket: BucketState | undefined } {
  const retry = Math.max(1, Math.ceil((enforcement.until - now) / 1000));
  if (enforcement.action !== 'throttle') return { refusal: { action: enforcement.action, until: enforcement.until, retryAfterSeconds: retry }, bucket };
  const limit = { requests: policy.throttle.requests, perSeconds: policy.throttle.per_seconds };
  const taken = take(limit, bucket ?? fullBucket(limit, now), now);
  return { refusal: taken.ok ? null : { action: 'throttle', until: enforcement.until, retryAfterSeconds: Math.min(retry, taken.retryAfterSeconds) }, bucket: taken.state };
}
