/** What an edge needs from where it runs: how to reach the server, which secrets must never show, and a snapshot of what a refused request must not change. */
import { tally, type Violation } from './runner.ts';
import { capture, no5xx, noLeak, type Seen } from './invariants.ts';

/** Where the fuzzer runs: SELF.fetch inside workerd, or fetch against `wrangler dev` from Node. */
export interface FuzzContext {
  /** The server's origin as requests name it, e.g. http://localhost:8787. */
  origin: string;
  fetch: (request: Request) => Promise<Response>;
  /** Secret values the server holds (admin secret, id secret, signing key, upstream client secret). */
  secrets: string[];
  /** Counts of stored things (sessions, grants, clients, keys …) that a refused request must leave as they were. */
  snapshot: (parts: SnapshotPart[]) => Promise<Record<string, unknown>>;
}

/** The stored things a snapshot can count. */
export type SnapshotPart = 'sessions' | 'transactions' | 'clients' | 'keys';

/** Compares two snapshots; `allowed` says how many new items of a part the answer legitimately made. */
export function unchanged(before: Record<string, unknown>, after: Record<string, unknown>, allowed: Partial<Record<SnapshotPart, number>> = {}): Violation[] {
  const out: Violation[] = [];
  for (const [part, was] of Object.entries(before)) {
    const now = after[part];
    const extra = allowed[part as SnapshotPart] ?? 0;
    if (typeof was === 'number' && typeof now === 'number') {
      if (now < was || now > was + extra) out.push({ invariant: `nothing written (${part})`, detail: `${part}: ${was} → ${now}${extra ? ` (at most ${extra} new allowed)` : ''}` });
    } else if (JSON.stringify(was) !== JSON.stringify(now)) {
      out.push({ invariant: `nothing written (${part})`, detail: `${part} changed` });
    }
  }
  return out;
}

/** Sends a request, reads the answer, and applies the invariants every edge shares (never a 5xx, nothing leaked). */
export async function exchange(ctx: FuzzContext, request: Request, sent: string): Promise<{ seen: Seen; violations: Violation[] } | { seen: null; violations: Violation[] }> {
  let seen: Seen;
  try {
    seen = await capture(await ctx.fetch(request));
    tally(seen.status);
  } catch (error) {
    tally('no answer');
    return { seen: null, violations: [{ invariant: 'the server answers', detail: String(error).slice(0, 200) }] };
  }
  return { seen, violations: [...no5xx(seen), ...noLeak(seen, sent, ctx.secrets)] };
}

/** Header values a client can send: printable ASCII, no CR/LF. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '').trim();
}
