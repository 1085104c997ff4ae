/** Origin and Host rules for /mcp: browser origins from an allow-list, DNS-rebinding protection. Pure. */
import type { Config } from '../config.ts';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for localhost, 127.0.0.1 and [::1] (any port). */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase());
}

/** An absent Origin (native clients) is allowed; a present one must be listed or, in development, loopback. */
export function originAllowed(origin: string | null, config: Config): boolean {
  if (origin === null) return true;
  if (config.ALLOWED_ORIGINS.includes(origin)) return true;
  if (!config.ALLOW_LOCALHOST) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

/**
 * DNS-rebinding protection. With ALLOWED_HOSTS set, the Host must be one of them. Without it,
 * a development server (ALLOW_LOCALHOST) answers only to loopback names; a deployed Worker is
 * reached through its own routes, so the Host is not checked.
 */
export function hostAllowed(host: string | null, config: Config): boolean {
  if (host === null) return config.ALLOWED_HOSTS.length === 0 && !config.ALLOW_LOCALHOST;
  const hostname = hostnameOf(host);
  if (hostname === null) return false;
  if (config.ALLOWED_HOSTS.length > 0) return config.ALLOWED_HOSTS.includes(hostname);
  return config.ALLOW_LOCALHOST ? isLoopbackHost(hostname) : true;
}

function hostnameOf(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}
