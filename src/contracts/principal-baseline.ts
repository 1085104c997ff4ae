/** What a session asks of its principal's Durable Object (the API key's, or the grant's) about the behavioural baseline. */
import { z } from 'zod';
import type { BaselineState } from '../security/baseline/index.ts';

/** A baseline call as it crosses RPC (the engine's BaselineCall, parsed). */
export const BaselineCallSchema = z.object({
  at: z.number().finite(),
  tool: z.string().min(1).max(200),
  args: z.record(z.string(), z.unknown()),
  status: z.enum(['ok', 'error', 'denied']),
  rows: z.number().min(0).optional(),
  bytes: z.number().min(0).optional(),
  ip: z.string().max(100).optional(),
  userAgent: z.string().max(300).optional(),
});

/** A policy in force on a principal after an alert: every tool call is throttled, refused, or needs a fresh sign-in until `until`. */
export const EnforcementSchema = z.object({
  action: z.enum(['throttle', 'block', 'reauth']),
  until: z.number(),
  /** The audit event (anomaly.detected) that started it. */
  event_id: z.string().max(40),
  reason: z.string().max(500),
});

/** A parsed enforcement. */
export type Enforcement = z.infer<typeof EnforcementSchema>;

/** Observations a session sends after answering, in a batch. */
export const ObservationBatchSchema = z.object({
  kind: z.enum(['person', 'agent', 'machine']),
  calls: z.array(BaselineCallSchema).max(1000),
  /** An enforcement the session started: the principal keeps the one lasting longest. */
  enforcement: EnforcementSchema.optional(),
});

/** A parsed batch. */
export type ObservationBatch = z.infer<typeof ObservationBatchSchema>;

/** The principal's baseline and the enforcement in force, as a session holds it. */
export interface BaselineView {
  state: BaselineState | null;
  enforcement: Enforcement | null;
}

/** Implemented by the API key's and the grant's Durable Objects. */
export interface PrincipalBaselineRpc {
  /** The current baseline (null before the first observation) and enforcement. */
  baseline(): BaselineView;
  /** Folds a batch of observations in, in order; returns the new view. */
  observeBaseline(batch: ObservationBatch): BaselineView;
  /**
   * A stateless call (no session bucket) takes from the principal's own throttle bucket while a
   * throttle is in force: null when admitted (or no throttle), else when to retry.
   */
  takeThrottle(): ThrottleRefusal | null;
}

/** A call refused by the principal's throttle. */
export interface ThrottleRefusal {
  action: 'throttle';
  until: number;
  retryAfterSeconds: number;
}
