/** The server's public URLs: issuer, the MCP resource, and the metadata documents derived from them. */
import type { Config } from '../config.ts';

/** Issuer, resource and endpoint URLs for one request. */
export interface ServerUrls {
  /** The authorization server's issuer (PUBLIC_URL, or the request's origin in development). */
  issuer: string;
  /** The canonical MCP resource URI: the `aud` of every access token (RFC 8707). */
  resource: string;
  /** RFC 9728 protected resource metadata for /mcp. */
  resourceMetadata: string;
  callback: string;
}

/** The URLs as clients see them. */
export function serverUrls(request: Request, config: Config): ServerUrls {
  const issuer = config.PUBLIC_URL ?? new URL(request.url).origin;
  return {
    issuer,
    resource: `${issuer}/mcp`,
    resourceMetadata: `${issuer}/.well-known/oauth-protected-resource/mcp`,
    callback: `${issuer}/oauth/callback`,
  };
}
