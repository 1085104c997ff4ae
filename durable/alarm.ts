/** One alarm per Durable Object, several reasons to wake: whoever asks for the earliest time wins. */

/** Sets the alarm to `at` unless one is already due sooner. */
export async function scheduleAlarm(storage: DurableObjectStorage, at: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || at < current) await storage.setAlarm(at);
}
