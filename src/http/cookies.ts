/** Browser cookies of the sign-in flow: the per-transaction binding and the remembered-user cookie (a JWT we sign). */
import { jwtVerify, SignJWT } from 'jose';
import type { SigningKeys } from '../auth/signing-keys.ts';

const USER_COOKIE = 'mcp_user';
const USER_TTL_SECONDS = 30 * 24 * 3600;

/** The cookie name that binds transaction `txnId` to the browser that started it. */
export function bindingCookieName(txnId: string): string {
  return `mcp_txn_${txnId.slice(0, 22)}`;
}

/** Reads one cookie's value. */
export function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax (the upstream callback is a top-level GET), Secure over https. */
export function setCookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/** Signs the remembered-user cookie value. */
export async function userCookie(keys: SigningKeys, issuer: string, userId: string, now: number, secure: boolean): Promise<string> {
  const iat = Math.floor(now / 1000);
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ: 'user+jwt' })
    .setIssuer(issuer)
    .setAudience(`${issuer}#browser`)
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + USER_TTL_SECONDS)
    .sign(keys.privateKey);
  return setCookie(USER_COOKIE, jwt, USER_TTL_SECONDS, secure);
}

/** The user id remembered in this browser, if its cookie verifies. */
export async function rememberedUser(request: Request, keys: SigningKeys, issuer: string, now: number): Promise<string | undefined> {
  const value = readCookie(request, USER_COOKIE);
  if (!value) return undefined;
  try {
    const { payload } = await jwtVerify(value, async (h) => keys.publicKeys.get(h.kid ?? '') ?? Promise.reject(new Error('unknown key')), {
      algorithms: ['ES256'],
      typ: 'user+jwt',
      issuer,
      audience: `${issuer}#browser`,
      currentDate: new Date(now),
    });
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}
