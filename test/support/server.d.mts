// Types of test/support/server.mjs (the real server under wrangler dev, for end-to-end tests and benchmarks).

/** A running server, with its own local OpenID provider and secrets. */
export interface ServerHandle {
  port: number;
  url: string;
  mcpUrl: string;
  /** Its state folder (kept across restart). */
  state: string;
  /** Its upstream OpenID provider. */
  idp: { issuer: string; port: number; stop(): Promise<void> };
  /** The bootstrap admin credential of this server (for /admin and the command-line tool). */
  adminSecret: string;
  /** Every secret given to the Worker (OAUTH_SIGNING_KEY, ID_SECRET, ADMIN_SECRET, UPSTREAM_CLIENT_SECRET, …), for tests that look for leaks. */
  secretVars: Record<string, string>;
  /** The last 20 KB of wrangler dev's output. */
  output: string;
  start(): Promise<void>;
  /** Stops the server process; its state stays, so a restart keeps every session. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and its provider and removes its state folder. */
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number>;

/** Starts `wrangler dev`; `mysqlUrl` switches to the `mysql` environment, `auditUrl` is the audit writer; `root` runs another copy of the project. */
export function startServer(options?: { mysqlUrl?: string | undefined; auditUrl?: string | undefined; vars?: Record<string, string>; port?: number; logLevel?: 'debug' | 'info' | 'log' | 'warn' | 'error' | 'none'; onOutput?: (text: string) => void; root?: string }): Promise<ServerHandle>;
