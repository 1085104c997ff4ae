/** Publishing an alert to the hub: best effort (the audit event is the record; the hub is the live view). */
import type { AlertInput } from '../contracts/alert-hub.ts';
import type { Env } from '../env.ts';

/** Sends an alert to the hub when one is bound; a failure is logged, never thrown into the caller's path. */
export async function publishAlert(env: Pick<Env, 'ALERT_HUB'>, alert: AlertInput): Promise<void> {
  const hub = env.ALERT_HUB;
  if (!hub) return;
  try {
    await hub.get(hub.idFromName('default')).publish(alert);
  } catch (error) {
    console.error(JSON.stringify({ event: 'alert_publish_failed', source: alert.source, rule: alert.rule, error: String(error) }));
  }
}
