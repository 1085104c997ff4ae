/** What the router and the embedded audit adapter may ask of the AuditStore Durable Object (which implements it). */
import type { AuditEvent } from '../audit/event.ts';
import type { DeliveryView } from '../audit/delivery-stats.ts';
import type { AuditQuery, StoredAuditEvent } from '../db/audit-port.ts';

/** The one embedded audit store (named "default"), also the outbox of events the router emits. */
export interface AuditStoreObject extends Rpc.DurableObjectBranded {
  /** Inserts a batch; an event already stored is ignored. Returns how many were new. */
  append(events: AuditEvent[]): Promise<number>;
  /** Records an event the router emitted: stored directly, or queued for the MySQL audit database. */
  record(event: AuditEvent): Promise<void>;
  /** Stored events matching the query, in id order or (with a cursor) in delivery order. */
  search(q: AuditQuery): StoredAuditEvent[];
  /** How many events are stored (tests and diagnostics). */
  count(): number;
  /** Runs the detection rules now over the stored trail (issue 16; the alarm does it every DETECTIONS_INTERVAL_SECONDS): new hits become detection.fired events and alerts. */
  runDetections(now?: number): Promise<DetectionRun>;
  /** Arms the alarm for the next detection run when detections are on (the Worker's cron calls it; nothing when off). */
  wake(): Promise<void>;
  /** Issue 12: an outbox's report of a delivered batch or a failed attempt. */
  noteDelivery(report: { reporter: string; lagsMs: number[]; pending: number; error: string | null }): void;
  /** Issue 12: audit delivery over the last minutes: events delivered, their lag, the outboxes failing. */
  deliveryStats(windowMinutes?: number): DeliveryView;
  /** Deletes up to one batch of events older than AUDIT_RETENTION_DAYS; `more` when older ones are left. */
  purge(now?: number): { deleted: number; more: boolean };
}

/** One run of the in-server detections: the range read, events evaluated, hits found, and the ids of the detection.fired events recorded (new hits only). */
export interface DetectionRun {
  since: string;
  until: string;
  events: number;
  hits: number;
  fired: string[];
}
