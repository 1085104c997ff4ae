// Runs the pending alarms of every object that keeps an audit outbox, so no delivery (and its log line) lands after a test expects quiet.
import { listDurableObjectIds, runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

/**
 * Runs every pending alarm of the sessions, transactions, keys, the registry and the principals' audit relays now. Without it
 * an outbox's real alarm fires about a second after the events were recorded: in the middle of a
 * count of the whole audit store, or after the test file has ended, when its console line races
 * the runner's teardown ("Closing rpc while onUserConsoleLog was pending").
 */
export async function settleDeliveries(): Promise<void> {
  const stubs = async <T extends Rpc.DurableObjectBranded>(namespace: DurableObjectNamespace<T>) => (await listDurableObjectIds(namespace)).map((id) => namespace.get(id));
  const all = [...(await stubs(env.MCP_SESSION)), ...(await stubs(env.AUTH_TXN)), ...(await stubs(env.API_KEY)), ...(await stubs(env.CLIENTS)), ...(await stubs(env.AUDIT_RELAY))];
  for (const stub of all) await runDurableObjectAlarm(stub);
}
