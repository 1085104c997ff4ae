// The `scan --jsonl` contract: one MCP tool definition per input line in, one verdict line per definition out, in order.
import { committedModel, scanWith } from '../../src/security/scanner/index.ts';

/** Rule id of the verdict given to a line that has an id but cannot be read as a tool definition (fail closed). */
export const INVALID_RULE = 'input/invalid';

/**
 * Parses one input line. Returns `{ skip }` for a blank line, `{ id, def }` for a definition,
 * `{ id, error }` for a line with an id but unusable fields, `{ error }` for a line without an id.
 */
export function parseLine(line) {
  if (line.trim() === '') return { skip: true };
  let v;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { error: `not JSON (${e.message})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'not a JSON object' };
  const id = v.id;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)))) return { error: 'no "id" (a string or a number)' };
  const problems = [];
  if (typeof v.name !== 'string') problems.push('"name" must be a string');
  if (v.description !== undefined && v.description !== null && typeof v.description !== 'string') problems.push('"description" must be a string');
  if (v.server !== undefined && v.server !== null && typeof v.server !== 'string') problems.push('"server" must be a string');
  if (v.inputSchema !== undefined && v.inputSchema !== null && (typeof v.inputSchema !== 'object' || Array.isArray(v.inputSchema))) problems.push('"inputSchema" must be an object');
  if (problems.length > 0) return { id, error: problems.join('; ') };
  return { id, def: { name: v.name, description: v.description ?? undefined, title: typeof v.title === 'string' ? v.title : undefined, inputSchema: v.inputSchema ?? undefined, server: v.server ?? undefined } };
}

/**
 * Scans JSONL text chunk by chunk. `emit(line)` receives each output line (without newline), `warn(message)` each
 * problem. Returns a function to feed chunks and a function to end the input; `end()` returns the number of bad lines.
 */
export function jsonlScanner(emit, warn) {
  const model = committedModel();
  let buffer = '';
  let lineNo = 0;
  let bad = 0;
  const handle = (line) => {
    lineNo++;
    const p = parseLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (p.skip) return;
    if (p.error) {
      bad++;
      warn(`line ${lineNo}: ${p.error}${p.id === undefined ? '; no output line for it' : `; reported as flagged (id ${JSON.stringify(p.id)})`}`);
      if (p.id !== undefined) emit(JSON.stringify({ id: p.id, flagged: true, score: 1, findings: [{ rule: INVALID_RULE, message: `the definition could not be read: ${p.error}`, span: '' }] }));
      return;
    }
    const r = scanWith(p.def, model);
    emit(JSON.stringify({ id: p.id, flagged: r.flagged, score: r.score, findings: r.findings }));
  };
  return {
    push(chunk) {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      let start = 0;
      while (nl >= 0) {
        handle(buffer.slice(start, nl));
        start = nl + 1;
        nl = buffer.indexOf('\n', start);
      }
      buffer = buffer.slice(start);
    },
    end() {
      if (buffer.length > 0) handle(buffer);
      buffer = '';
      return bad;
    },
  };
}
