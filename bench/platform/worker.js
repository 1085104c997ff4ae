// The platform probe (issue 14): no MCP, no authentication, no security layer. POST /hop goes to the caller's own
// Durable Object (named by the x-probe-object header, one per connection, as a session is) and reads one row;
// POST /write goes there too and commits one 1 KB row before answering, as an audited tool call commits its audit
// event. The table is emptied every 200 rows, as an outbox is by its delivery. Every answer is the same small
// JSON-RPC result as the floor's, so the differences between them are what the platform charges for the hop and
// for the commit on this machine. POST /keyed first asks one object shared by every connection (as every call of
// one API key asks the key's object) and then does what /write does: the least an API-key call adds.
const RESULT = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'probe' }] } });
const ROW = 'x'.repeat(1024);
const json = () => new Response(RESULT, { headers: { 'content-type': 'application/json' } });

export class Probe {
  constructor(ctx) {
    this.sql = ctx.storage.sql;
    this.written = 0;
    this.sql.exec('CREATE TABLE IF NOT EXISTS probe (seq INTEGER PRIMARY KEY, row TEXT NOT NULL)');
  }

  async fetch(request) {
    await request.arrayBuffer();
    if (new URL(request.url).pathname === '/write') {
      this.sql.exec('INSERT INTO probe (row) VALUES (?)', ROW);
      if (++this.written % 200 === 0) this.sql.exec('DELETE FROM probe');
    } else {
      this.sql.exec('SELECT seq FROM probe ORDER BY seq DESC LIMIT 1').toArray();
    }
    return json();
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method !== 'POST' || !['/hop', '/write', '/keyed'].includes(pathname)) return new Response('not found', { status: 404 });
    const name = request.headers.get('x-probe-object') ?? 'default';
    if (pathname === '/keyed') {
      const asked = await env.PROBE.get(env.PROBE.idFromName('shared-key')).fetch('http://probe/hop', { method: 'POST', body: '{}' });
      await asked.arrayBuffer();
      return env.PROBE.get(env.PROBE.idFromName(name)).fetch(new Request('http://probe/write', { method: 'POST', body: request.body }));
    }
    return env.PROBE.get(env.PROBE.idFromName(name)).fetch(request);
  },
};
