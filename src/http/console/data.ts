/** How console pages reach the admin API: the same routes, called in-process for an administrator already authenticated. */
import type { Env } from '../../env.ts';
import { handleAdminAs, route } from '../admin.ts';

/** Headers kept from the browser's request on an in-process admin request (for the audit trail's request facts). */
const KEPT = ['cf-ray', 'cf-connecting-ip', 'user-agent', 'origin'];

function internal(request: Request, path: string, method: string, body?: unknown): Request {
  const headers = new Headers();
  for (const name of KEPT) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  if (body !== undefined) headers.set('content-type', 'application/json');
  return new Request(new URL(path, request.url), { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

/** A read through the admin API's router (the page view itself is what the trail records). */
export async function readAdmin(request: Request, env: Env, path: string): Promise<{ status: number; body: unknown }> {
  const response = await route(internal(request, path, 'GET'), env);
  const text = await response.text();
  try {
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** A change through the admin API, recorded naming the administrator. */
export async function changeAdmin(request: Request, env: Env, admin: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await handleAdminAs(internal(request, path, 'POST', body), env, admin);
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body: parsed };
}
