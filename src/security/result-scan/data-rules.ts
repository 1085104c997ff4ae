/**
 * Rules for *data* (rows, report text) rather than tool descriptions: text addressed to a model, naming this server's
 * tools, carrying a query, or pointing at a collection URL; and how much each of the scanner's own rules weighs in data.
 */
import type { Hit } from '../scanner/types.ts';
import type { ResultSeverity } from './types.ts';

/** A gap that stays inside one sentence. */
const G = (n: number): string => `[^.!?\\n]{0,${n}}?`;

/** Text addressed to an AI model, not to the support team. "Support agent" is a person: it is not matched. */
// eslint-disable-next-line security/detect-non-literal-regexp -- joined from this file's constant pattern strings, never input
const MODEL_ADDRESS = new RegExp(
  [
    '\\b(?:dear|hey|attention|note (?:to|for)(?: the| any)?|message (?:to|for)(?: the)?|instructions? (?:to|for)(?: the| any)?)\\s+(?:ai|a\\.i\\.|assistants?|agents?|models?|llms?|bots?|claude|chatgpt|gpt|copilot|gemini)\\b',
    '\\b(?:ai|llm|language[- ]model|autonomous|automated)\\s+(?:assistants?|agents?|models?|systems?)\\b(?=' + G(80) + '\\b(?:must|should|shall|needs? to|has to|is required|are required|please|now)\\b)',
    '\\bif you are an? (?:ai|llm|language model|assistant|agent|bot|model)\\b',
    '\\bas an ai\\b',
    '^\\s*(?:assistant|system|ai)\\s*:',
  ].join('|'),
  'imu',
);

/** A generic "call the X tool" (snake or kebab case identifier followed by tool/function). */
// eslint-disable-next-line security/detect-non-literal-regexp -- built from this file's constant pattern strings, never input
const TOOL_CALL = new RegExp(`\\b(?:call|calls|calling|use|using|run|running|invoke|invoking|execute|executing|trigger)\\b${G(20)}\`?[a-z][a-z0-9]{0,30}(?:[_-][a-z0-9]{1,30}){1,5}\`?\\s+(?:tool|function|command|endpoint)\\b`, 'iu');

/** A query inside data. */
const QUERY = /\bselect\b[^;]{1,200}?\bfrom\s+`?[a-z_][a-z0-9_]{0,63}/iu;

/** A URL made to receive data: a collection path or an empty or templated query parameter. */
const COLLECT_URL = /\bhttps?:\/\/[^\s"'<>]{1,200}?(?:\/(?:collect|exfil\w*|upload|ingest|beacon|hook|webhooks?|log|capture|track|submit|drop)\b|[?&][a-z_]{1,20}=(?=[\s"'<>.,;)]|$|\{|<|\$|\[|%7B))/iu;

/** A data-specific rule. */
export interface DataRule {
  id: string;
  severity: ResultSeverity;
  re: RegExp;
  message: string;
}

/** The rules that only make sense for data; the scanner's rules run too. */
export const DATA_RULES: readonly DataRule[] = [
  { id: 'result/model-address', severity: 'medium', re: MODEL_ADDRESS, message: 'text addressed to an AI model rather than to people' },
  { id: 'result/tool-call', severity: 'medium', re: TOOL_CALL, message: 'tells the reader to call a tool' },
  { id: 'result/query', severity: 'medium', re: QUERY, message: 'a database query inside returned data' },
  { id: 'result/collect-url', severity: 'medium', re: COLLECT_URL, message: 'a URL shaped to receive data (a collection path or an empty query parameter)' },
];

/** A word-bounded, case-insensitive pattern for this server's tool names. */
export function toolNamePattern(names: readonly string[]): RegExp | null {
  const safe = names.filter((n) => /^[A-Za-z0-9_-]{1,64}$/u.test(n));
  if (safe.length === 0) return null;
  // eslint-disable-next-line security/detect-non-literal-regexp -- tool names checked above to be [A-Za-z0-9_-]
  return new RegExp(`(?<![A-Za-z0-9_-])(?:${safe.join('|')})(?![A-Za-z0-9_-])`, 'iu');
}

/** Scanner rules that say nothing about data: ordinary rows name passwords, addresses, URLs and security problems. */
const SILENT_IN_DATA = new Set(['exfiltration/url', 'exfiltration/address', 'sensitive/secret', 'sensitive/read-secret', 'cross-tool/reference', 'hidden-instructions/prerequisite']);
/** Scanner rules whose `high` severity is only `medium` in data (a customer may paste a path or a look-alike name). */
const DEMOTED_IN_DATA = new Set(['sensitive/path', 'unicode/homoglyph', 'exfiltration/carrier-parameter']);

/** How much one of the scanner's hits weighs when it is found in data. */
export function dataSeverity(hit: Hit): ResultSeverity {
  if (hit.rule.startsWith('capability/') || SILENT_IN_DATA.has(hit.rule)) return 'low';
  if (hit.severity === 'high') {
    if (DEMOTED_IN_DATA.has(hit.rule)) return 'medium';
    // Customers write "please don't show my address to anyone"; text that hides something from "the user" is for a model.
    if (hit.rule === 'hidden-instructions/secrecy' && !/\b(?:user|human|operator)\b/iu.test(hit.span)) return 'medium';
    return 'high';
  }
  return hit.severity;
}

/**
 * Rules whose hit says the text is aimed at a model (it addresses one, names our tools, tells it to call one, overrides
 * or hides instructions, hides characters, encodes a payload). Customers also write "send the invoice to", "from now on",
 * SQL error messages and webhook URLs: those count only beside one of these.
 */
const MODEL_DIRECTED = /^(?:result\/(?:model-address|tool-call|tool-name)|hidden-instructions\/(?:tag|override|secrecy|address)|cross-tool\/(?:shadowing|servers|call-with)|sensitive\/(?:shell|conversation)|exfiltration\/parameter|unicode\/|encoded\/)/u;

/** Whether a rule's hit shows the text is aimed at a model (see MODEL_DIRECTED). */
export function isModelDirected(rule: string): boolean {
  return MODEL_DIRECTED.test(rule);
}

/** Cues of which one must occur for a string to be read by the full rules (anything not printable ASCII always is). */
export const DATA_CUES =
  /[^\t\n\r\x20-\x7e]|ignore|disregard|forget|overrid|supersed|instruct|assistant|\bai\b|a\.i\.|model|llm|gpt|claude|gemini|copilot|agent|bot\b|system|prompt|tool|function|select|call|invok|execut|run\b|send|post|upload|forward|transmit|exfil|http|www\.|<|\[|\{|base64|decod|secret|password|passphrase|credential|token|api.?key|private|ssh|\.env|environ|tell|mention|reveal|disclos|silent|without|user|curl|wget|fetch|\$\(|`|%[0-9a-f]{2}|\\[xu]|[a-z0-9+/=]{24,}|[0-9a-f]{32,}|session|from now on|rule|bcc|copy|notes?\b|attach/iu;
