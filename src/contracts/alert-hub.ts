/**
 * What the router and other Durable Objects may ask of the alert hub (one object, named "default",
 * built on the agents package's Agent class), and the alert records both sides share.
 * Anomaly alerts (issue 11), in-server detections (issue 16) and flagged tool results (issue 10)
 * all arrive here through `publish`; the admin console and `npm run admin -- alerts tail` read it.
 */
import { z } from 'zod';
import { ActorSchema } from '../audit/event.ts';

/** Where an alert comes from. */
export const ALERT_SOURCES = ['anomaly', 'detection', 'tool_result', 'tool_integrity'] as const;

/** How urgent an alert is (Sigma's levels). */
export const ALERT_SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;

/** What a producer publishes. Repeats with the same `group` are folded into one alert with a count. */
export const AlertInputSchema = z.object({
  source: z.enum(ALERT_SOURCES),
  /** The rule or feature set that fired: a Sigma rule id, `baseline`, a scanner rule. */
  rule: z.string().min(1).max(200),
  severity: z.enum(ALERT_SEVERITIES),
  title: z.string().min(1).max(300),
  /** Grouping key: alerts with the same group (and not yet acknowledged) are counted as repeats. */
  group: z.string().min(1).max(300),
  /** The delegation chain of the principal the alert is about, when there is one. */
  actor: ActorSchema,
  /** Human-readable explanations, most important first. */
  reasons: z.array(z.string().max(500)).max(20),
  score: z.number().min(0).max(1).optional(),
  tool: z.string().optional(),
  /** The audit event that records this alert (anomaly.detected, detection.fired, …). */
  event_id: z.string().optional(),
  /** ISO 8601 UTC time of the behaviour that raised it. */
  time: z.iso.datetime({ offset: false }),
});

/** A published alert as its producer wrote it. */
export type AlertInput = z.infer<typeof AlertInputSchema>;

/** An alert as the hub keeps it. */
export interface AlertView extends AlertInput {
  id: string;
  /** How many times this group fired since it was opened. */
  count: number;
  first_seen: string;
  last_seen: string;
  acknowledged: { by: string; at: string } | null;
}

/** The state the hub synchronises to its WebSocket clients (the Agent's `state`). */
export interface AlertHubState {
  /** Most recent first, bounded. */
  alerts: AlertView[];
  open: number;
  updated_at: string;
}

/** The alert hub Durable Object. */
export interface AlertHubObject extends Rpc.DurableObjectBranded {
  /** Records an alert (or counts a repeat of an open one) and pushes the new state to connected clients. */
  publish(alert: AlertInput): Promise<AlertView>;
  /** Recent alerts, most recent first; `open` only unacknowledged ones. */
  list(options: { limit?: number; before?: string; open?: boolean }): Promise<AlertView[]>;
  /** Acknowledges an alert; null when there is no such alert. */
  acknowledge(id: string, by: string, now: number): Promise<AlertView | null>;
}
