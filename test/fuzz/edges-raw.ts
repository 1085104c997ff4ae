/** Fuzz edge below fetch (Node only): raw HTTP/1.1 framing at /mcp — repeated Host, chunked and oversized bodies, odd header lines. */
import net from 'node:net';
import fc from 'fast-check';
import { mcpShape, no5xx, noLeak, type Seen } from './invariants.ts';
import { tally, type Probe, type Violation } from './runner.ts';

/** One raw request. */
export interface RawInput {
  hosts: string[];
  framing: 'length' | 'chunked' | 'chunked-bad' | 'length-short';
  bodySize: number;
  extra: Array<[string, string]>;
}

const MIB = 1024 * 1024;

export function rawInput(host: string): fc.Arbitrary<RawInput> {
  return fc.record({
    hosts: fc.oneof({ weight: 4, arbitrary: fc.constant<string[]>([host]) }, { weight: 2, arbitrary: fc.array(fc.constantFrom(host, 'evil.example', 'localhost', '', `${host}, evil.example`), { minLength: 0, maxLength: 3 }) }),
    framing: fc.constantFrom<RawInput['framing']>('length', 'length', 'chunked', 'chunked', 'chunked-bad', 'length-short'),
    bodySize: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }) }, { weight: 1, arbitrary: fc.constantFrom(MIB + 1, 2 * MIB, 10 * MIB) }),
    extra: fc.array(
      fc.oneof(
        fc.constant<[string, string]>(['content-type', 'text/plain']),
        fc.constant<[string, string]>(['content-type', 'application/json']),
        fc.constant<[string, string]>(['mcp-protocol-version', '2025-11-25']),
        fc.constant<[string, string]>(['mcp-protocol-version', '1999-01-01']),
        fc.constant<[string, string]>(['origin', 'http://evil.example']),
        fc.constant<[string, string]>(['x-long', 'a'.repeat(12_000)]),
        fc.constant<[string, string]>(['authorization', 'Bearer x']),
        fc.constant<[string, string]>(['x-folded', 'a\r\n b']),
        fc.constant<[string, string]>(['content-length', '5']),
      ),
      { maxLength: 3 },
    ),
  });
}

const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

function bodyOf(size: number): Buffer {
  if (size === 0) return Buffer.from(PING);
  // Valid JSON of about `size` bytes: a ping with a long string in params.
  const pad = Math.max(0, size - 60);
  return Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"${'x'.repeat(pad)}"}}`);
}

/** Sends raw bytes and reads the answer until the server closes or 15 s pass. */
export function rawExchange(port: number, head: string, body: Buffer, chunked: 'no' | 'ok' | 'bad', waitMs = 15_000): Promise<{ status: number | null; raw: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(parts).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: status ? Number(status[1]) : null, raw });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => parts.push(d));
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', () => setTimeout(finish, 50));
    socket.on('connect', () => {
      socket.write(head);
      if (chunked === 'no') {
        socket.write(body);
        return;
      }
      const size = 64 * 1024;
      for (let i = 0; i < body.length; i += size) {
        const piece = body.subarray(i, i + size);
        socket.write(`${piece.length.toString(16)}\r\n`);
        socket.write(piece);
        socket.write('\r\n');
      }
      socket.write(chunked === 'bad' ? 'zz\r\n\r\n' : '0\r\n\r\n');
    });
  });
}

/** Splits a raw HTTP answer into a Seen (chunked bodies decoded). */
export function parseRaw(raw: string, status: number): Seen {
  const split = raw.indexOf('\r\n\r\n');
  const headLines = raw.slice(0, split < 0 ? raw.length : split).split('\r\n').slice(1);
  const headers = new Headers();
  for (const line of headLines) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      } catch {
        // a header value fetch would refuse
      }
    }
  }
  let text = split < 0 ? '' : raw.slice(split + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    let out = '';
    let rest = text;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol < 0) break;
      const n = Number.parseInt(rest.slice(0, eol), 16);
      if (!Number.isFinite(n) || n === 0) break;
      out += rest.slice(eol + 2, eol + 2 + n);
      rest = rest.slice(eol + 2 + n + 2);
    }
    text = out;
  }
  return { status, headers, text: Buffer.from(text, 'latin1').toString('utf8') };
}

/** Edge `raw-http`: an answer every time a request is well framed (413 for big bodies, 400 for repeated Host), never a 5xx, no leak, the gate's typed body. */
export function rawProbe(port: number, authorization: string, secrets: string[]): Probe<RawInput> {
  return async (input) => {
    const body = bodyOf(input.bodySize);
    const lines = ['POST /mcp HTTP/1.1', ...input.hosts.map((h) => `Host: ${h}`), 'Connection: close', `Authorization: ${authorization}`, 'Accept: application/json, text/event-stream'];
    if (!input.extra.some(([k]) => k === 'content-type')) lines.push('Content-Type: application/json');
    for (const [k, v] of input.extra) lines.push(`${k}: ${v}`);
    const chunked = input.framing === 'chunked' ? 'ok' : input.framing === 'chunked-bad' ? 'bad' : 'no';
    if (chunked !== 'no') lines.push('Transfer-Encoding: chunked');
    else lines.push(`Content-Length: ${input.framing === 'length-short' ? body.length + 10 : body.length}`);
    // Well framed: a valid body framing and exactly one Host header naming one authority (RFC 9112 §3.2).
    const oneHost = input.hosts.length === 1 && !(input.hosts[0] ?? '').includes(',');
    const wellFramed = (input.framing === 'length' || input.framing === 'chunked') && !input.extra.some(([k, v]) => k === 'content-length' || v.includes('\r\n')) && oneHost;
    // A malformed request may be left waiting for bytes that never come: a short wait is enough there.
    const answer = await rawExchange(port, `${lines.join('\r\n')}\r\n\r\n`, body, chunked, wellFramed ? 15_000 : 2_000);
    tally(answer.status ?? 'no answer');
    if (answer.status === null) return wellFramed ? [{ invariant: 'a well-framed request is answered', detail: `${input.framing}, ${body.length} bytes: ${JSON.stringify(answer.raw.slice(0, 80))}` }] : [];
    const seen = parseRaw(answer.raw, answer.status);
    // A request that breaks HTTP framing (a malformed chunk, a short body, no or several Host
    // headers) is answered by the HTTP layer in front of the Worker. Under wrangler dev that is
    // Miniflare's proxy, which answers some of them with its own 500 and stack (not our code, and
    // not what Cloudflare's edge does, which refuses such framing before any Worker runs): here
    // only that the server keeps answering is checked, by the next input. Every well-framed
    // request is held to all the invariants.
    if (!wellFramed) return [];
    const out: Violation[] = [...no5xx(seen), ...noLeak(seen, lines.join('\n'), secrets)];
    if (input.bodySize > MIB && wellFramed && input.hosts.length === 1 && seen.status !== 413 && seen.status < 500 && ![401, 403, 415].includes(seen.status)) {
      out.push({ invariant: 'a body over 1 MiB is refused 413', detail: `${seen.status} (${input.framing}, ${body.length} bytes)` });
    }
    // Framing errors may be answered by the HTTP layer before the Worker; Worker answers carry the gate's shape.
    if (wellFramed && seen.status >= 400 && seen.status < 500 && seen.status !== 400) out.push(...mcpShape(seen));
    if (wellFramed && seen.status === 400 && (seen.headers.get('content-type') ?? '').startsWith('application/json')) out.push(...mcpShape(seen));
    return out;
  };
}
