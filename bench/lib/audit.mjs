// The audit trail as the bench sees it: GET /admin/audit/events with the server's admin secret, paged with the cursor; bounded waits for delivery.

/** Events per page when counting (the export allows up to 10 000). */
const PAGE = 1000;
/** Most pages one count reads (a million events: far more than one run makes); beyond that the count is marked truncated. */
const MAX_PAGES = 1000;
const REQUEST_TIMEOUT_MS = 10_000;
const POLL_MS = 250;

/**
 * One page of the export: the NDJSON lines and the `X-Next-Cursor` header.
 * @param {string} baseUrl loopback origin of the server
 * @param {string} adminSecret the server's ADMIN_SECRET
 * @param {Record<string, string>} query filters (type, tool, after, limit, ...)
 * @param {AbortSignal} signal
 * @returns {Promise<{ events: any[], cursor: string | null }>}
 */
export async function exportPage(baseUrl, adminSecret, query, signal) {
  const url = new URL('/admin/audit/events', baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing a non-loopback target: ${baseUrl}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const response = await fetch(url, { headers: { authorization: `Bearer ${adminSecret}` }, signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${url.pathname}${url.search} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  const events = text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
  return { events, cursor: response.headers.get('x-next-cursor') };
}

/**
 * Counts the events matching `query` by paging through the export with the cursor (at most MAX_PAGES pages).
 * Also counts distinct event ids, so a duplicate delivery would show.
 * @param {string} baseUrl
 * @param {string} adminSecret
 * @param {Record<string, string>} query filters (without `after` and `limit`)
 * @param {AbortSignal} signal
 */
export async function countEvents(baseUrl, adminSecret, query, signal) {
  const ids = new Set();
  let count = 0;
  let pages = 0;
  let after;
  for (;;) {
    if (pages >= MAX_PAGES) return { count, distinct: ids.size, pages, truncated: true };
    const { events, cursor } = await exportPage(baseUrl, adminSecret, { ...query, limit: String(PAGE), ...(after ? { after } : {}) }, signal);
    pages++;
    count += events.length;
    for (const e of events) ids.add(e.id);
    if (events.length < PAGE || !cursor) break;
    if (cursor === after) throw new Error(`the export cursor did not advance (${cursor})`);
    after = cursor;
  }
  return { count, distinct: ids.size, pages, truncated: false };
}

/**
 * After an audited scenario: waits (at most `waitMs`) until `GET /admin/audit/events?type=tool.call&limit=1`
 * returns an event, then until every call of the scenario has been delivered (the count of `tool.call` events
 * for `tool` reaches `calls`) or the wait runs out. Returns what it saw; never throws on a short count.
 * `since` (ISO time the scenario started) keeps out events of earlier scenarios when servers share one audit
 * table (the MySQL servers of both runtimes write to the same MariaDB); both queries carry it.
 * @param {object} options
 * @param {string} options.baseUrl
 * @param {string} options.adminSecret
 * @param {string} options.tool the scenario's tool (its events are counted)
 * @param {number} options.calls tool calls the scenario made (warm-up and measured, successes and errors)
 * @param {number} options.waitMs bound on the whole wait
 * @param {string} [options.since] ISO time: only events recorded from then on count
 * @param {AbortSignal} options.signal
 */
export async function awaitDelivery({ baseUrl, adminSecret, tool, calls, waitMs, since, signal }) {
  const range = since ? { since } : {};
  const t0 = performance.now();
  const deadline = t0 + waitMs;
  const elapsed = () => Math.round(performance.now() - t0) / 1000;
  let firstSeconds = null;
  while (firstSeconds === null) {
    const { events } = await exportPage(baseUrl, adminSecret, { type: 'tool.call', limit: '1', ...range }, signal);
    if (events.length > 0) firstSeconds = elapsed();
    else if (performance.now() >= deadline) break;
    else await sleep(POLL_MS, signal);
  }
  let counted = { count: 0, distinct: 0, pages: 0, truncated: false };
  if (firstSeconds !== null) {
    for (;;) {
      counted = await countEvents(baseUrl, adminSecret, { type: 'tool.call', tool, ...range }, signal);
      if (counted.count >= calls || counted.truncated || performance.now() >= deadline) break;
      await sleep(POLL_MS * 2, signal);
    }
  }
  return {
    tool,
    ...range,
    calls,
    firstEventAfterSeconds: firstSeconds,
    delivered: counted.count,
    distinctIds: counted.distinct,
    pagesRead: counted.pages,
    truncated: counted.truncated,
    waitedSeconds: elapsed(),
    complete: counted.count === calls && counted.distinct === counted.count,
  };
}

/**
 * After the audit-off scenario: the server must have delivered no tool.call event at all (its warm-up calls
 * would have been delivered during the measured phase had auditing been on).
 * @param {string} baseUrl
 * @param {string} adminSecret
 * @param {AbortSignal} signal
 */
export async function deliveredAny(baseUrl, adminSecret, signal) {
  const { events } = await exportPage(baseUrl, adminSecret, { type: 'tool.call', limit: '1' }, signal);
  return events.length > 0;
}

/** @param {number} ms @param {AbortSignal} signal */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('interrupted'));
    const onAbort = () => (clearTimeout(timer), reject(new Error('interrupted')));
    const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve(undefined)), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
