/** What the router may ask of the FailureCounter Durable Object (one per caller address), and the failure kinds it counts. */
import type { RequestMeta } from '../audit/emit.ts';

/** Failures recorded as bounded summaries: where no other object can own the event, and a flood must not flood the trail. */
export const FAILURE_KINDS = ['mcp_token', 'mcp_api_key', 'token_code', 'token_refresh', 'admin_secret', 'registration_limited'] as const;

/** One of FAILURE_KINDS. */
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** What one failed request tells the counter (never a secret: ids, JWT header values, a short reason). */
export interface FailureNote {
  kind: FailureKind;
  keyId?: string | undefined;
  kid?: string | undefined;
  alg?: string | undefined;
  reason?: string | undefined;
  meta?: RequestMeta | undefined;
  now: number;
  windowMs: number;
}

/** A window as the counter keeps it (tests and diagnostics). */
export interface FailureWindowView {
  kind: FailureKind;
  start: number;
  last: number;
  count: number;
}

/** The counter of one address, named by the address. */
export interface FailureCounterObject extends Rpc.DurableObjectBranded {
  /** Counts one failure: in memory, with a storage write only when a window opens (and every 64th failure). */
  note(input: FailureNote): Promise<void>;
  /** Closes the windows that ended by `now` (each one event with its count); what the alarm does. */
  close(now: number): Promise<number>;
  /** The open windows (tests and diagnostics). */
  windows(): FailureWindowView[];
}
