/** Types of the result scanner: findings in the text a tool returns, with where they sit. */

/** How much a finding weighs: `high` flags a value alone, two `medium` findings flag it together, `low` only adds context. */
export type ResultSeverity = 'high' | 'medium' | 'low';

/** One reason to distrust a piece of returned data. `span` is `text.slice(start, end)` of the string at `path`. */
export interface ResultFinding {
  rule: string;
  severity: ResultSeverity;
  message: string;
  span: string;
  /** Where the string sits in the result: a JSON path into structured content (`rows[3].subject`) or `content[0].text`. */
  path: string;
  /** UTF-16 offsets of `span` in that string. */
  start: number;
  end: number;
}

/** The verdict on one returned value. `flagged` is true exactly when `findings` is non-empty. */
export interface ResultScan {
  flagged: boolean;
  findings: ResultFinding[];
  /** Strings read; `skipped` of them were passed by the cheap prefilter without the full rules. */
  strings: number;
  skipped: number;
}

/** What the scanner needs to know about the server: the names of its own tools (data that names them is suspect). */
export interface ResultScanOptions {
  toolNames: readonly string[];
}
