/** Authenticates the client at /token and /revoke: client_secret_basic, client_secret_post, or none for public clients. */
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { oauthError } from '../errors.ts';
import { findClient, registry } from './clients.ts';
import type { ClientRecord } from '../../durable/client-registry.ts';

/** The authenticated client, or the response refusing it. */
export type ClientAuth = { ok: true; client: ClientRecord } | { ok: false; response: Response };

/** Reads credentials from the Authorization header or the form; two methods at once is invalid_request. */
export async function authenticateClient(request: Request, form: URLSearchParams, env: Env): Promise<ClientAuth> {
  const header = request.headers.get('authorization');
  const postedId = form.get('client_id') || undefined;
  const postedSecret = form.get('client_secret') || undefined;
  let clientId: string | undefined;
  let secret: string | undefined;
  let method: 'client_secret_basic' | 'client_secret_post' | 'none';
  if (header) {
    if (postedSecret) return refuse('invalid_request', 'use one client authentication method, not two');
    const basic = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(header.trim());
    const decoded = basic?.[1] ? safeAtob(basic[1]) : null;
    const colon = decoded?.indexOf(':') ?? -1;
    if (!decoded || colon < 0) return refuse('invalid_client', 'malformed Basic credentials');
    clientId = safeDecode(decoded.slice(0, colon));
    secret = safeDecode(decoded.slice(colon + 1));
    if (postedId !== undefined && postedId !== clientId) return refuse('invalid_request', 'client_id does not match the Basic credentials');
    method = 'client_secret_basic';
  } else if (postedSecret) {
    clientId = postedId;
    secret = postedSecret;
    method = 'client_secret_post';
  } else {
    clientId = postedId;
    method = 'none';
  }
  if (!clientId) return refuse('invalid_client', 'client authentication failed');
  const found = await findClient(env, loadConfig(env), clientId, Date.now());
  if (!found.ok) return refuse('invalid_client', 'client authentication failed');
  const client = found.client;
  const expected = client.metadata.token_endpoint_auth_method;
  if (expected === 'none') {
    return method === 'none' ? { ok: true, client } : refuse('invalid_client', 'client authentication failed');
  }
  // The client must use the method it registered (RFC 7591 token_endpoint_auth_method).
  if (method !== expected || !secret || !(await registry(env).verifySecret(clientId, secret))) return refuse('invalid_client', 'client authentication failed');
  return { ok: true, client };
}

function refuse(code: 'invalid_client' | 'invalid_request', description: string): { ok: false; response: Response } {
  return { ok: false, response: oauthError(code, description) };
}

function safeAtob(value: string): string | null {
  try {
    return atob(value);
  } catch {
    return null;
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
