/**
 * What happens to a flagged tool result, per tool: `annotate` (deliver it marked as untrusted data), `redact` (deliver
 * it with the offending sentences replaced), or `block` (deliver a `result_blocked` tool error instead). Defaults are
 * here, per tool; `RESULT_SCAN_POLICY` (JSON, parsed in src/config.ts) overrides them.
 */
import { z } from 'zod';

/** The three answers to a flagged result. */
export const RESULT_ACTIONS = ['annotate', 'redact', 'block'] as const;

/** One of RESULT_ACTIONS. */
export type ResultAction = (typeof RESULT_ACTIONS)[number];

/**
 * The defaults, by tool name; `*` is every catalog tool not named (one added later). The conformance pack's tools are registered apart and not scanned.
 * Why each: see docs/scanner.md ("Scanned tool results").
 */
export const DEFAULT_RESULT_POLICY: Readonly<Record<string, ResultAction>> = {
  '*': 'annotate',
  find_customers: 'annotate',
  get_customer: 'annotate',
  list_customer_orders: 'annotate',
  list_open_tickets: 'redact',
  sql_select: 'redact',
  support_report: 'block',
  list_tables: 'block',
  describe_table: 'block',
};

/** The tools the policy may name besides `*` (an unknown name in the setting is a typo, refused at start-up). */
export const POLICY_TOOLS: readonly string[] = Object.keys(DEFAULT_RESULT_POLICY).filter((k) => k !== '*');

/** `RESULT_SCAN_POLICY`: a JSON object from tool name (or `*`) to an action, e.g. `{"sql_select":"block","*":"redact"}`. */
export const ResultPolicySetting = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object such as {"sql_select":"block","*":"annotate"}' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .record(z.string(), z.enum(RESULT_ACTIONS, { message: `must be one of ${RESULT_ACTIONS.join(', ')}` }))
      .superRefine((record, ctx) => {
        for (const key of Object.keys(record)) {
          if (key !== '*' && !POLICY_TOOLS.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: `unknown tool; the keys are * and ${POLICY_TOOLS.join(', ')}` });
        }
      })
      .transform((overrides): Readonly<Record<string, ResultAction>> => ({ ...DEFAULT_RESULT_POLICY, ...overrides })),
  );

/** The action for one tool under a policy (the defaults when no policy is set). */
export function actionFor(tool: string, policy: Readonly<Record<string, ResultAction>> = DEFAULT_RESULT_POLICY): ResultAction {
  return (Object.hasOwn(policy, tool) ? policy[tool] : undefined) ?? policy['*'] ?? 'annotate';
}
