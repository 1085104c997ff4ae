/** Finding a client: a registered one in the registry, or a Client ID Metadata Document fetched safely and cached. */
import { parseClientMetadata, type ClientMetadata } from '../auth/client-metadata.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { readLimitedText } from './body.ts';
import { isLoopbackHost } from './origin.ts';
import type { ClientRecord, ClientRegistryObject } from '../contracts/client-registry.ts';
import { cacheDocument, registryIndex, resolveClient } from './client-shards.ts';

const MAX_DOCUMENT_BYTES = 5 * 1024;
const FETCH_TIMEOUT_MS = 3000;
const MIN_CACHE_SECONDS = 60;
const MAX_CACHE_SECONDS = 24 * 3600;
/** Why a disabled client is refused (the /authorize error page says it; /token says only invalid_client). */
const DISABLED = 'this application has been disabled by an administrator of this server';

/** The registry's index object (admin listings, the API key index); clients, consents and counters live in shards (client-shards.ts). */
export function registry(env: Env): DurableObjectStub<ClientRegistryObject> {
  return registryIndex(env);
}

/** A client id that is an https URL names a metadata document (or, in development, an http loopback URL). */
export function isMetadataDocumentUrl(clientId: string, config: Config): boolean {
  try {
    const url = new URL(clientId);
    if (url.protocol === 'https:') return url.pathname !== '/' && url.hash === '' && url.username === '' && url.password === '';
    return config.ALLOW_LOCALHOST && url.protocol === 'http:' && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

/** The client, or why there is none (a safe sentence). */
export async function findClient(env: Env, config: Config, clientId: string, now: number): Promise<{ ok: true; client: ClientRecord } | { ok: false; description: string }> {
  const known = await resolveClient(env, clientId, now);
  if (known.kind === 'found') return { ok: true, client: known.client };
  if (known.kind === 'disabled') return { ok: false, description: DISABLED };
  if (!isMetadataDocumentUrl(clientId, config)) return { ok: false, description: 'unknown client_id' };
  const fetched = await fetchDocument(clientId, config);
  if (!fetched.ok) return fetched;
  await cacheDocument(env, clientId, fetched.metadata, now, now + fetched.maxAgeSeconds * 1000);
  return { ok: true, client: { clientId, metadata: fetched.metadata, source: 'cimd', createdAt: now, hasSecret: false } };
}

/**
 * Fetches a Client ID Metadata Document: no redirects, a size and time limit, JSON only, and
 * its `client_id` must equal the URL exactly. Private and loopback targets are refused outside
 * development (a deployed Worker cannot reach private networks in any case).
 */
async function fetchDocument(url: string, config: Config): Promise<{ ok: true; metadata: ClientMetadata; maxAgeSeconds: number } | { ok: false; description: string }> {
  const target = new URL(url);
  if (!config.ALLOW_LOCALHOST && isPrivateHost(target.hostname)) return { ok: false, description: 'client metadata document host is not allowed' };
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'manual', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch {
    return { ok: false, description: 'client metadata document could not be fetched' };
  }
  if (response.status !== 200) return { ok: false, description: `client metadata document answered ${response.status}` };
  const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, description: 'client metadata document is not application/json' };
  const text = await readLimitedText(response.body, MAX_DOCUMENT_BYTES);
  if (text === null) return { ok: false, description: 'client metadata document is too large' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, description: 'client metadata document is not JSON' };
  }
  if (typeof body !== 'object' || body === null || (body as { client_id?: unknown }).client_id !== url) {
    return { ok: false, description: 'client metadata document client_id does not equal its URL' };
  }
  const parsed = parseClientMetadata({ ...body, token_endpoint_auth_method: (body as { token_endpoint_auth_method?: unknown }).token_endpoint_auth_method ?? 'none' });
  if (!parsed.ok) return { ok: false, description: parsed.description };
  if (parsed.metadata.token_endpoint_auth_method !== 'none') return { ok: false, description: 'client metadata document clients must be public (token_endpoint_auth_method none)' };
  return { ok: true, metadata: parsed.metadata, maxAgeSeconds: cacheSeconds(response.headers.get('cache-control')) };
}

/** max-age from Cache-Control, clamped; no-store/no-cache keep it for the minimum. */
export function cacheSeconds(header: string | null): number {
  const value = (header ?? '').toLowerCase();
  if (/no-store|no-cache/.test(value)) return MIN_CACHE_SECONDS;
  const match = /max-age=(\d+)/.exec(value);
  const seconds = match ? Number(match[1]) : MIN_CACHE_SECONDS;
  return Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, seconds));
}

/** True for loopback, private, link-local and unspecified IP literals and local names. */
export function isPrivateHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (isLoopbackHost(hostname) || h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (h.includes(':')) return h === '::' || h === '::1' || h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80') || h.startsWith('::ffff:');
  return false;
}
