/** Discovery documents: RFC 8414 authorization server metadata, RFC 9728 protected resource metadata, and the JWKS. */
import { ASSERTION_ALGS } from '../auth/client-jwks.ts';
import { SCOPES } from '../auth/scopes.ts';
import { signingKeys } from '../auth/signing-keys.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { serverUrls, type ServerUrls } from './urls.ts';

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** RFC 8414 metadata; also served at the OpenID discovery paths that MCP clients try. */
export function authorizationServerMetadata(urls: ServerUrls): Record<string, unknown> {
  const i = urls.issuer;
  return {
    issuer: i,
    authorization_endpoint: `${i}/authorize`,
    token_endpoint: `${i}/token`,
    registration_endpoint: `${i}/register`,
    revocation_endpoint: `${i}/revoke`,
    jwks_uri: `${i}/jwks.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS],
    scopes_supported: [...SCOPES],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  };
}

/** RFC 9728 metadata of the MCP endpoint. */
export function protectedResourceMetadata(urls: ServerUrls): Record<string, unknown> {
  return {
    resource: urls.resource,
    authorization_servers: [urls.issuer],
    scopes_supported: [...SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'own-mcp-server',
  };
}

/** Public JSON, readable from browser clients (no credentials involved). */
export function publicJson(body: unknown, maxAge = 300): Response {
  return new Response(JSON.stringify(body), {
    headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${maxAge}`, 'access-control-allow-origin': '*' },
  });
}

/** Every discovery document path (metadata and keys): public GETs that browser clients preflight. */
export const DISCOVERY_PATHS = {
  authorizationServer: ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/mcp', '/.well-known/openid-configuration', '/.well-known/openid-configuration/mcp', '/mcp/.well-known/openid-configuration'],
  protectedResource: ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'],
  jwks: ['/jwks.json'],
} as const;

/** Handlers for the discovery routes. */
export const discovery = {
  authorizationServer: (request: Request, env: Env) => publicJson(authorizationServerMetadata(serverUrls(request, loadConfig(env)))),
  protectedResource: (request: Request, env: Env) => publicJson(protectedResourceMetadata(serverUrls(request, loadConfig(env)))),
  jwks: async (_request: Request, env: Env) => publicJson((await signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS)).jwks),
};
