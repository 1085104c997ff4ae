/**
 * The protocol versions this one /mcp endpoint serves, as a dual-era server advertises them: in
 * `server/discover` and in the `-32022` unsupported-version error of a 2026-07-28 request.
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';

/** The stateless revision served beside the session one. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/**
 * Every version this endpoint serves, newest first: 2026-07-28 statelessly, the 2025-era ones
 * through `initialize` and a session. MCP 2026-07-28 defines `supportedVersions` as the versions
 * the server supports, and its own example of the `-32022` error of a dual-era server lists both
 * eras; the SDK v2 lists only the modern ones (it negotiates the others through `initialize`).
 */
export const SERVED_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS];

type Json = Record<string, unknown>;

/**
 * The SDK's answer with the versions this endpoint serves: the `supportedVersions` of a
 * `server/discover` result, the `supported` list of a `-32022` error. A streamed answer, and any
 * other answer, is returned unchanged (its body is not read).
 */
export async function advertiseServedVersions(response: Response, method: string | undefined): Promise<Response> {
  const discover = method === 'server/discover' && response.status === 200;
  if (!discover && response.status !== 400) return response;
  if (!(response.headers.get('content-type') ?? '').startsWith('application/json')) return response;
  const text = await response.text();
  const rewritten = rewrite(text, discover);
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(rewritten ?? text, { status: response.status, statusText: response.statusText, headers });
}

function rewrite(text: string, discover: boolean): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as Json;
  const result = message['result'] as Json | undefined;
  if (discover && result && Array.isArray(result['supportedVersions'])) {
    return JSON.stringify({ ...message, result: { ...result, supportedVersions: [...SERVED_VERSIONS] } });
  }
  const error = message['error'] as Json | undefined;
  const data = error?.['data'] as Json | undefined;
  if (error?.['code'] === -32022 && data && Array.isArray(data['supported'])) {
    return JSON.stringify({ ...message, error: { ...error, data: { ...data, supported: [...SERVED_VERSIONS] } } });
  }
  return undefined;
}
