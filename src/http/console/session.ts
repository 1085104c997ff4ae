/**
 * The console's cookies: the sign-in flow cookie (state, nonce and PKCE verifier of one upstream
 * sign-in) and the session cookie (who signed in), both JWTs signed with the server's key; and the
 * CSRF token, an HMAC of the session id (a synchronizer token bound to the session, no storage).
 */
import { jwtVerify, SignJWT } from 'jose';
import { base64url, timingSafeEqual } from '../../auth/encoding.ts';
import { idKey } from '../../auth/ids.ts';
import { signingKeys, type SigningKeys } from '../../auth/signing-keys.ts';
import type { Env } from '../../env.ts';
import { readCookie } from '../cookies.ts';

/** How long a console session lasts (no sliding renewal: sign in again after it). */
export const SESSION_TTL_SECONDS = 30 * 60;
/** How long a sign-in may take at the provider. */
export const FLOW_TTL_SECONDS = 10 * 60;


/** The signed-in person a session cookie names. */
export interface ConsoleSession {
  sid: string;
  userId: string;
  subject: string;
  email?: string | undefined;
  emailVerified: boolean;
}

/** The sign-in in progress that a flow cookie carries. */
export interface ConsoleFlow {
  state: string;
  nonce: string;
  verifier: string;
}

/** The session cookie's name: `__Host-` prefixed over https (Secure, Path=/, no Domain), plain on http://localhost. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-mcp_admin' : 'mcp_admin';
}

/** The flow cookie's name, `__Host-` prefixed over https like the session's. */
function flowCookieName(secure: boolean): string {
  return secure ? '__Host-mcp_admin_flow' : 'mcp_admin_flow';
}

function cookie(name: string, value: string, maxAge: number, secure: boolean, sameSite: 'Strict' | 'Lax'): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

async function sign(keys: SigningKeys, issuer: string, typ: string, claims: Record<string, unknown>, subject: string, ttl: number, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: keys.kid, typ })
    .setIssuer(issuer)
    .setAudience(`${issuer}#admin-console`)
    .setSubject(subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(keys.privateKey);
}

async function verify(value: string, keys: SigningKeys, issuer: string, typ: string, now: number): Promise<Record<string, unknown> | null> {
  try {
    const { payload } = await jwtVerify(value, async (h) => keys.publicKeys.get(h.kid ?? '') ?? Promise.reject(new Error('unknown key')), {
      algorithms: ['ES256'],
      typ,
      issuer,
      audience: `${issuer}#admin-console`,
      currentDate: new Date(now),
    });
    return payload;
  } catch {
    return null;
  }
}

function keysOf(env: Env): Promise<SigningKeys> {
  return signingKeys(env.OAUTH_SIGNING_KEY, env.OAUTH_PREVIOUS_PUBLIC_KEYS);
}

/** Set-Cookie for a new flow (SameSite=Lax: the provider sends the browser back with a cross-site top-level GET). */
export async function flowCookie(env: Env, issuer: string, flow: ConsoleFlow, now: number): Promise<string> {
  const jwt = await sign(await keysOf(env), issuer, 'admin-flow+jwt', { state: flow.state, nonce: flow.nonce, pkv: flow.verifier }, 'console-sign-in', FLOW_TTL_SECONDS, now);
  const secure = issuer.startsWith('https:');
  return cookie(flowCookieName(secure), jwt, FLOW_TTL_SECONDS, secure, 'Lax');
}

/** Set-Cookie that removes the flow cookie (it is used once). */
export function clearFlowCookie(issuer: string): string {
  const secure = issuer.startsWith('https:');
  return cookie(flowCookieName(secure), '', 0, secure, 'Lax');
}

/** The flow this browser started, if its cookie verifies and `state` is the one it holds. */
export async function takeFlow(request: Request, env: Env, issuer: string, state: string, now: number): Promise<ConsoleFlow | null> {
  const value = readCookie(request, flowCookieName(issuer.startsWith('https:')));
  if (!value) return null;
  const p = await verify(value, await keysOf(env), issuer, 'admin-flow+jwt', now);
  if (!p || typeof p.state !== 'string' || typeof p.nonce !== 'string' || typeof p.pkv !== 'string') return null;
  if (!timingSafeEqual(p.state, state)) return null;
  return { state: p.state, nonce: p.nonce, verifier: p.pkv };
}

/** Set-Cookie for a console session (HttpOnly, SameSite=Strict, Secure and `__Host-` over https). */
export async function sessionCookie(env: Env, issuer: string, s: ConsoleSession, now: number): Promise<string> {
  const jwt = await sign(await keysOf(env), issuer, 'admin-session+jwt', { sid: s.sid, usub: s.subject, email: s.email, ev: s.emailVerified }, s.userId, SESSION_TTL_SECONDS, now);
  const secure = issuer.startsWith('https:');
  return cookie(sessionCookieName(secure), jwt, SESSION_TTL_SECONDS, secure, 'Strict');
}

/** Set-Cookie that ends the console session in this browser. */
export function clearSessionCookie(issuer: string): string {
  const secure = issuer.startsWith('https:');
  return cookie(sessionCookieName(secure), '', 0, secure, 'Strict');
}

/** True when the request carries a console session cookie at all (valid or not). */
export function hasSessionCookie(request: Request, issuer: string): boolean {
  return readCookie(request, sessionCookieName(issuer.startsWith('https:'))) !== undefined;
}

/** The session this request's cookie names, if it verifies and has not expired. */
export async function readSession(request: Request, env: Env, issuer: string, now: number): Promise<ConsoleSession | null> {
  const value = readCookie(request, sessionCookieName(issuer.startsWith('https:')));
  if (!value) return null;
  const p = await verify(value, await keysOf(env), issuer, 'admin-session+jwt', now);
  if (!p || typeof p.sid !== 'string' || typeof p.sub !== 'string' || typeof p.usub !== 'string') return null;
  return { sid: p.sid, userId: p.sub, subject: p.usub, email: typeof p.email === 'string' ? p.email : undefined, emailVerified: p.ev === true };
}

/** The session's CSRF token: HMAC(ID_SECRET, "console-csrf:" + sid), so it is unguessable and needs no storage. */
export async function csrfToken(env: Env, sid: string): Promise<string> {
  const key = await idKey(env.ID_SECRET);
  return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`console-csrf:${sid}`))));
}

/** True when `presented` is this session's CSRF token. */
export async function checkCsrf(env: Env, sid: string, presented: string | null | undefined): Promise<boolean> {
  if (!presented) return false;
  return timingSafeEqual(presented, await csrfToken(env, sid));
}
