/** POST /register: Dynamic Client Registration (RFC 7591) with strict metadata rules and a per-address rate limit. */
import { MAX_REGISTRATION_BYTES, parseClientMetadata } from '../auth/client-metadata.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { oauthError } from '../errors.ts';
import { requestMeta } from '../audit/emit.ts';
import { noteFailure } from '../audit/failures.ts';
import { mediaType, readLimitedText } from './body.ts';
import { registerClient } from './client-shards.ts';

/** The caller's address as Cloudflare reports it (a client cannot set this header through Cloudflare). */
export function clientAddress(request: Request): string {
  return request.headers.get('cf-connecting-ip') ?? 'unknown';
}

/** Registers a client; answers 201 with its id (and secret, once), 400 with an RFC 7591 error, or 429. */
export async function handleRegister(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env);
  if (mediaType(request.headers.get('content-type')) !== 'application/json') return oauthError('invalid_client_metadata', 'the body must be application/json');
  if (Number(request.headers.get('content-length') ?? '0') > MAX_REGISTRATION_BYTES) return oauthError('invalid_client_metadata', `the body is larger than ${MAX_REGISTRATION_BYTES} bytes`);
  const text = await readLimitedText(request.body, MAX_REGISTRATION_BYTES);
  if (text === null) return oauthError('invalid_client_metadata', `the body is larger than ${MAX_REGISTRATION_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return oauthError('invalid_client_metadata', 'the body is not JSON');
  }
  const parsed = parseClientMetadata(body);
  if (!parsed.ok) return oauthError(parsed.error, parsed.description);
  const result = await registerClient(env, parsed.metadata, clientAddress(request), config.REGISTRATIONS_PER_HOUR, Date.now(), requestMeta(request));
  if (!result.ok) {
    await noteFailure(env, 'registration_limited', requestMeta(request));
    return oauthError('invalid_request', 'too many registrations from this address; try again later', { status: 429, headers: { 'retry-after': String(result.retryAfterSeconds) } });
  }
  const response = {
    client_id: result.clientId,
    ...(result.clientSecret ? { client_secret: result.clientSecret, client_secret_expires_at: 0 } : {}),
    client_id_issued_at: result.issuedAt,
    ...parsed.metadata,
  };
  return new Response(JSON.stringify(response), { status: 201, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' } });
}
