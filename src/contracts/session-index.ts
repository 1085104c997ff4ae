/** What the router and the sessions may ask of the session index (SessionIndex implements it): the open MCP sessions, for the console (issue 12). */

/** One open session as the index keeps it: who, with which client or key, which revision, since when. */
export interface OpenSession {
  session_id: string;
  /** `user`: a person through an OAuth client (or a machine client); `agent`: an API key. */
  kind: 'user' | 'agent';
  /** The person's user id, or the key owner. */
  user_id: string;
  email: string | null;
  client_id: string | null;
  client_name: string | null;
  key_id: string | null;
  agent_id: string | null;
  grant_id: string | null;
  /** The MCP protocol revision the session speaks. */
  revision: string;
  /** Epoch milliseconds. */
  opened_at: number;
}

/** One shard of the index (named `shard:<n>`); a session's shard follows from its id. */
export interface SessionIndexObject extends Rpc.DurableObjectBranded {
  /** Lists a session that has just opened. */
  opened(entry: OpenSession): void;
  /** Forgets a session that has ended (DELETE, idle expiry, an administrator). */
  ended(sessionId: string): void;
  /** The newest `limit` open sessions of this shard, and how many it holds. */
  list(limit: number): { sessions: OpenSession[]; total: number };
}
