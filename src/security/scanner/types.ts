/** Types of the poisoning scanner: what it reads (an MCP tool definition) and what it says (findings with spans). */

/** One MCP tool definition as a client sees it in `tools/list` (only the fields the scanner reads). */
export interface ToolDefinition {
  name: string;
  description?: string | undefined;
  title?: string | undefined;
  inputSchema?: unknown;
  /** The server the tool comes from, when known; used to tell other servers' names from this one's. */
  server?: string | undefined;
}

/** How much one rule's hit weighs on its own: `high` flags the definition whatever the learned layer says. */
export type Severity = 'low' | 'medium' | 'high';

/** One reason to distrust a definition. `span` is the offending text, an exact substring of the field named in `message`. */
export interface Finding {
  rule: string;
  message: string;
  span: string;
}

/** The verdict on one definition. `flagged` is true exactly when `findings` is non-empty. */
export interface ScanResult {
  flagged: boolean;
  /** Probability-like score in [0, 1]; `flagged` is `score >= threshold`. */
  score: number;
  findings: Finding[];
}

/** A piece of text the scanner reads, with where it came from (for messages). */
export interface Field {
  /** `name`, `title`, `description`, or a path into the input schema such as `inputSchema.properties.notes.description`. */
  where: string;
  text: string;
  /** What kind of text it is: prose that a model reads, or an identifier (tool or parameter name). */
  kind: 'prose' | 'name' | 'param-name';
}

/** A rule's hit before it becomes a finding. */
export interface Hit {
  rule: string;
  severity: Severity;
  message: string;
  span: string;
  where: string;
}
