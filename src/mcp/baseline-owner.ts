/** The principal's own Durable Object, which keeps its behavioural baseline: the API key's for an agent, the grant's for a person or a machine client. */
import type { BaselineView, ObservationBatch, ThrottleRefusal } from '../contracts/principal-baseline.ts';
import type { Env } from '../env.ts';
import type { Principal } from './principal.ts';

/** What a session or a stateless call asks of the principal's object about its baseline. */
export interface BaselineOwner {
  baseline(): Promise<BaselineView>;
  observeBaseline(batch: ObservationBatch): Promise<BaselineView>;
  takeThrottle(): Promise<ThrottleRefusal | null>;
}

/** The principal's object (chosen by the key id or the grant id the credential carries, never by the client). */
export function principalObject(env: Env, p: Principal): BaselineOwner {
  const stub = p.kind === 'agent' ? env.API_KEY.get(env.API_KEY.idFromName(p.keyId)) : env.AUTH_TXN.get(env.AUTH_TXN.idFromName(p.grantId));
  return {
    baseline: async () => (await stub.baseline()) as BaselineView,
    observeBaseline: async (batch) => (await stub.observeBaseline(batch)) as BaselineView,
    takeThrottle: async () => await stub.takeThrottle(),
  };
}
