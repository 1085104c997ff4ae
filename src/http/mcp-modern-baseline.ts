/**
 * The behavioural baseline for a stateless 2026-07-28 tools/call: the same scoring, policies,
 * events and alerts as a session (src/mcp/anomaly.ts, anomaly-enforce.ts), against the view the
 * principal's own object gives for this request (brought by the key's check or the grant's status,
 * so no round trip of its own). There is no session to queue in, so the call's observation goes
 * to the principal's object as a batch of one: after the answer (`waitUntil`) for a call that did
 * not alert, before it for one that alerted or started an enforcement, so the next request finds
 * the enforcement in force.
 */
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { newEvent, type EventInput, type RequestMeta } from '../audit/emit.ts';
import type { AuditEvent } from '../audit/event.ts';
import { publishAlert } from '../alerts/raise.ts';
import type { BaselineView, Enforcement } from '../contracts/principal-baseline.ts';
import { alertOf, anomalyPolicy, anomalySettings, baselineCall, detectedEvent, enforcedEvent, principalKind } from '../mcp/anomaly.ts';
import { enforce, inForce, startEnforcement, type AnomalyRefusal } from '../mcp/anomaly-enforce.ts';
import { actionFor, type AnomalyAction, type AnomalyPolicy } from '../mcp/anomaly-policy.ts';
import { principalObject } from '../mcp/baseline-owner.ts';
import type { ToolAudit } from '../mcp/server.ts';
import type { Principal } from '../mcp/principal.ts';
import { newBaseline, score, type BaselineCall, type BaselineSettings, type BaselineState } from '../security/baseline/index.ts';

/** What one stateless request gives: bindings, settings, its principal and facts, how to record an audit event. */
export interface StatelessBaselineDeps {
  env: Env;
  config: Config;
  principal: Principal;
  meta: RequestMeta;
  record: (event: AuditEvent) => Promise<void>;
  /** The principal's view, when the authentication's round trip already brought it. */
  view?: BaselineView | undefined;
  /** Finishes work after the answer (the request's ExecutionContext); without it, everything is awaited. */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** One stateless request's scorer (no session id: there is none). */
export class StatelessBaseline {
  readonly #deps: StatelessBaselineDeps;
  readonly #settings: BaselineSettings;
  readonly #policy: AnomalyPolicy;
  #view: BaselineView | undefined;

  constructor(deps: StatelessBaselineDeps) {
    this.#deps = deps;
    this.#settings = anomalySettings(deps.config);
    this.#policy = anomalyPolicy(deps.config);
    this.#view = deps.view;
  }

  /** Whether baselines are on. */
  get enabled(): boolean {
    return this.#deps.config.ANOMALY_ENABLED;
  }

  /**
   * Before the tool runs: an enforcement in force refuses the call (a throttle takes from the
   * principal's own bucket, there being no session to keep one); otherwise the arguments are scored and an alert under a
   * policy stronger than "alert" refuses it, as in a session.
   */
  async before(tool: string, args: unknown): Promise<AnomalyRefusal | null> {
    if (!this.enabled) return null;
    const view = await this.#fetch();
    const { principal, meta } = this.#deps;
    const now = Date.now();
    const enforcement = inForce(view.enforcement, now);
    if (enforcement) {
      // A throttle takes from the principal's own bucket (a session keeps one of its own).
      const refusal = enforcement.action === 'throttle' ? await this.#takeThrottle() : enforce(this.#policy, enforcement, now, undefined).refusal;
      if (!refusal) return null;
      await this.#send(baselineCall({ at: now, tool, args, status: 'denied', meta }));
      await this.#record(enforcedEvent(principal, tool, refusal.action, refusal.until, enforcement.event_id, undefined, meta));
      return refusal;
    }
    const call = baselineCall({ at: now, tool, args, status: 'ok', meta });
    const verdict = score(this.#state(), call, this.#settings);
    const action = actionFor(this.#policy, tool, principalKind(principal));
    if (!verdict.alert || action === 'alert') return null;
    const denied: BaselineCall = { ...call, status: 'denied' };
    const event = await this.#alert(denied, verdict, action);
    const started = startEnforcement(this.#policy, action, now, event.id, verdict.reasons);
    await this.#send(denied, started);
    const { refusal } = enforce(this.#policy, started, now, undefined);
    if (!refusal) return null;
    await this.#record(enforcedEvent(principal, tool, refusal.action, refusal.until, event.id, undefined, meta));
    return refusal;
  }

  /** After the tool answered (or the call was refused for its arguments): score with rows and bytes, alert, and send the observation. */
  async after(input: { tool: string; args: unknown; status: BaselineCall['status']; rows?: number | undefined; bytes?: number | undefined }): Promise<void> {
    if (!this.enabled) return;
    await this.#fetch();
    const now = Date.now();
    const call = baselineCall({ at: now, ...input, meta: this.#deps.meta });
    const verdict = score(this.#state(), call, this.#settings);
    if (!verdict.alert) return this.#sendLater(call);
    const action = actionFor(this.#policy, call.tool, principalKind(this.#deps.principal));
    const event = await this.#alert(call, verdict, action);
    return this.#send(call, action === 'alert' ? undefined : startEnforcement(this.#policy, action, now, event.id, verdict.reasons));
  }

  /** The tool path's audit entry, as the engine reads it. */
  afterTool(entry: ToolAudit): Promise<void> {
    return this.after({ tool: entry.tool, args: entry.args, status: entry.outcome === 'success' ? 'ok' : 'error', rows: entry.rows, bytes: entry.bytes });
  }

  async #fetch(): Promise<BaselineView> {
    if (this.#view) return this.#view;
    try {
      this.#view = await principalObject(this.#deps.env, this.#deps.principal).baseline();
    } catch (error) {
      console.error(JSON.stringify({ event: 'baseline_fetch_failed', error: String(error) }));
      this.#view = { state: null, enforcement: null };
    }
    return this.#view;
  }

  /** A token from the principal's throttle; an unreachable object admits the call, as a failed baseline fetch does. */
  async #takeThrottle(): Promise<AnomalyRefusal | null> {
    try {
      return await principalObject(this.#deps.env, this.#deps.principal).takeThrottle();
    } catch (error) {
      console.error(JSON.stringify({ event: 'baseline_throttle_failed', error: String(error) }));
      return null;
    }
  }

  #state(): BaselineState {
    return this.#view?.state ?? newBaseline(this.#settings);
  }

  /** The observation (and an enforcement started here) to the principal's object; its reply is the view from now on. */
  async #send(call: BaselineCall, enforcement?: Enforcement): Promise<void> {
    try {
      this.#view = await principalObject(this.#deps.env, this.#deps.principal).observeBaseline({ kind: principalKind(this.#deps.principal), calls: [call], ...(enforcement ? { enforcement } : {}) });
    } catch (error) {
      console.error(JSON.stringify({ event: 'baseline_observe_failed', error: String(error) }));
    }
  }

  /** A plain observation (no alert, no enforcement): sent after the answer when the request allows it. */
  async #sendLater(call: BaselineCall): Promise<void> {
    const waitUntil = this.#deps.waitUntil;
    if (!waitUntil) return this.#send(call);
    waitUntil(this.#send(call));
  }

  async #alert(call: BaselineCall, verdict: ReturnType<typeof score>, action: AnomalyAction): Promise<AuditEvent> {
    const event = newEvent(detectedEvent(this.#deps.principal, call, verdict, action, undefined, this.#deps.meta));
    if (this.#deps.config.AUDIT_ENABLED) await this.#deps.record(event);
    await publishAlert(this.#deps.env, alertOf(this.#deps.principal, call, verdict, action, event.id));
    return event;
  }

  async #record(input: EventInput): Promise<void> {
    if (this.#deps.config.AUDIT_ENABLED) await this.#deps.record(newEvent(input));
  }
}
