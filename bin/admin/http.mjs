// The admin API client of mcp-admin: exit codes, CliError and usage errors, the server's URL and secret, and requests to /admin/*.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Exit codes scripts can rely on (documented in --help). */
export const EXIT = { ok: 0, server: 1, usage: 2, auth: 3, notFound: 4 };
const TIMEOUT_MS = 15_000;
export const DEFAULT_URL = 'http://localhost:8787';

/** A failure with its exit code; the message goes to stderr. */
export class CliError extends Error {
  /** @param {number} exit @param {string} message */
  constructor(exit, message) {
    super(message);
    this.exit = exit;
  }
}

/** The command whose --help a usage error points to (set as the command line is understood). */
let helpTopic = '';
export const usage = (message) => new CliError(EXIT.usage, `${message}\nSee: mcp-admin ${helpTopic ? `${helpTopic} ` : ''}--help`);
/** Sets the command whose --help usage errors point to. */
export const setHelpTopic = (topic) => {
  helpTopic = topic;
};

/** The admin secret and where it came from (never printed). */
export function adminSecret(options) {
  if (options['admin-secret']) return { secret: options['admin-secret'], source: '--admin-secret' };
  if (process.env.MCP_ADMIN_SECRET) return { secret: process.env.MCP_ADMIN_SECRET, source: 'MCP_ADMIN_SECRET' };
  const file = path.resolve('.dev.vars');
  if (existsSync(file)) {
    const match = /^\s*ADMIN_SECRET\s*=\s*(.*?)\s*$/m.exec(readFileSync(file, 'utf8'));
    const value = match?.[1]?.replace(/^(['"])(.*)\1$/, '$2');
    if (value) return { secret: value, source: 'ADMIN_SECRET in ./.dev.vars' };
  }
  throw new CliError(EXIT.auth, 'the admin secret is missing: set MCP_ADMIN_SECRET (or pass --admin-secret, or run in the folder whose .dev.vars has ADMIN_SECRET)');
}

export function baseUrl(options) {
  const raw = options.url ?? process.env.MCP_ADMIN_URL ?? DEFAULT_URL;
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw usage(`--url: '${raw}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(`--url: '${raw}' must be http:// or https://`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Sends one admin API request; returns the response and its body, or throws a CliError (network errors, 400, 401, 404, 409, other non-2xx). */
export async function send(ctx, method, route, body, { accept = 'application/json', signal } = {}) {
  const url = `${ctx.base}/admin/${route}`;
  const headers = { authorization: `Bearer ${ctx.secret}`, accept, 'user-agent': ctx.userAgent ?? 'mcp-admin' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  let response;
  let text;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: signal ? AbortSignal.any([timeout, signal]) : timeout, redirect: 'manual' });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw error;
    if (timeout.aborted || error?.name === 'TimeoutError') throw new CliError(EXIT.server, `network error: no answer from ${ctx.base} within ${TIMEOUT_MS / 1000} s`);
    const code = error?.cause?.code;
    if (code === 'ECONNREFUSED') throw new CliError(EXIT.server, `network error: could not connect to ${ctx.base} (connection refused): is the server running? (npm start)`);
    if (code === 'ENOTFOUND') throw new CliError(EXIT.server, `network error: the host of ${ctx.base} was not found`);
    throw new CliError(EXIT.server, `network error: could not reach ${ctx.base} (${code ?? error?.cause?.message ?? error?.message ?? 'unknown'})`);
  }
  const json = response.ok ? undefined : parseJson(text);
  const description = json && typeof json === 'object' ? [json.error, json.error_description].filter(Boolean).join(': ') : '';
  if (response.status === 401) throw new CliError(EXIT.auth, `authentication failed: the server refused the admin secret from ${ctx.source} (401${description ? `, ${description}` : ''})`);
  if (response.status === 404) throw new CliError(EXIT.notFound, `not found: ${json?.error_description ?? `${method} ${url} answered 404`}`);
  if (response.status === 400) throw usage(`the server rejected the request: ${json?.error_description ?? 'invalid request'}`);
  if (response.status === 409) throw new CliError(EXIT.server, `the server refused: ${json?.error_description ?? 'conflict'} (409)`);
  if (response.status < 200 || response.status > 299) throw new CliError(EXIT.server, `server error: ${method} /admin/${route.split('?')[0]} answered ${response.status}${description ? ` (${description})` : ''}`);
  return { response, text };
}

/** Calls the admin API; returns its JSON or throws a CliError with the right exit code. */
export async function api(ctx, method, route, body) {
  const { response, text } = await send(ctx, method, route, body);
  const json = parseJson(text);
  if (json === undefined || typeof json !== 'object') throw new CliError(EXIT.server, `server error: ${method} /admin/${route} answered ${response.status} without JSON (is ${ctx.base} this MCP server?)`);
  return json;
}
