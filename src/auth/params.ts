/** Reading OAuth request parameters from a query string or form body (OAuth 2.1 §3.1): no repeats, empty means absent. Pure. */

/** A parameter was sent more than once. */
export type ParamsRejection = { ok: false; error: 'invalid_request'; description: string };

/**
 * Reads the named parameters. A parameter sent more than once is `invalid_request` (whatever
 * its values, even empty ones; the first such name in `names` order is reported); an empty
 * value reads as absent; parameters not named are ignored.
 */
export function readParams<const N extends string>(
  source: URLSearchParams,
  names: readonly N[],
): { ok: true; params: Record<N, string | undefined> } | ParamsRejection {
  const params = {} as Record<N, string | undefined>;
  for (const name of names) {
    const values = source.getAll(name);
    if (values.length > 1) {
      return { ok: false, error: 'invalid_request', description: `parameter ${name} is repeated` };
    }
    const value = values[0];
    params[name] = value === undefined || value === '' ? undefined : value;
  }
  return { ok: true, params };
}
