/**
 * One principal's audit outbox for requests that reach no session (issue 14): stateless 2026-07-28
 * calls and calls the gate refused for scope. Before, each of those events was a synchronous call
 * to the one AuditStore (`default`), so every such request in the world queued through one
 * object. Now each principal's events go to its own relay, which writes them to its outbox before
 * the answer leaves (the same guarantee as a session's) and delivers them in batches by its alarm:
 * to the AuditStore or MySQL, the webhook and the log line (src/audit/sink.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import { AuditEventSchema, type AuditEvent } from '../src/audit/event.ts';
import { loadConfig } from '../src/config.ts';
import type { AuditRelayObject } from '../src/contracts/audit-relay.ts';
import type { Env } from '../src/env.ts';
import { AuditOutbox } from './audit-outbox.ts';

/** Holds only an outbox (docs/storage.md, "Audit outboxes"): empty once its events are delivered. */
export class AuditRelay extends DurableObject<Env> implements AuditRelayObject {
  readonly #outbox: AuditOutbox;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#outbox = new AuditOutbox(ctx.storage, env, loadConfig(env).AUDIT_OUTBOX_MAX);
  }

  record(event: AuditEvent): Promise<boolean> {
    return this.#outbox.record(AuditEventSchema.parse(event));
  }

  pending(): number {
    return this.#outbox.count();
  }

  /** Delivers the outbox (on failure it sets the alarm again, with backoff). */
  override async alarm(): Promise<void> {
    await this.#outbox.flush();
  }
}
