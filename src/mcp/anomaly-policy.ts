/** What an anomaly does, per tool and principal kind: alert only, throttle, block, or demand a fresh sign-in (ANOMALY_POLICY). Pure. */
import { z } from 'zod';

/** The actions a policy can take on an alerting call. */
export const ANOMALY_ACTIONS = ['alert', 'throttle', 'block', 'reauth'] as const;

/** One of ANOMALY_ACTIONS. */
export type AnomalyAction = (typeof ANOMALY_ACTIONS)[number];

/** Who the baseline belongs to (the engine's kinds). */
export type PolicyKind = 'person' | 'agent' | 'machine';

const Action = z.enum(ANOMALY_ACTIONS);
const ByKind = z.strictObject({ person: Action.optional(), agent: Action.optional(), machine: Action.optional() });

/** ANOMALY_POLICY: JSON, every member optional; what is left out keeps the default below. */
export const AnomalyPolicySchema = z.strictObject({
  /** The action for every tool without its own entry, per principal kind. */
  default: ByKind.default({}),
  /** Per tool name, per principal kind. */
  tools: z.record(z.string().min(1).max(100), ByKind).default({}),
  /** How long a throttle, a block or a demanded sign-in lasts after the alert. */
  duration_seconds: z.number().int().min(1).max(7 * 86_400).default(900),
  /** The tighter bucket of a throttled principal. */
  throttle: z.strictObject({ requests: z.number().int().min(1).max(10_000), per_seconds: z.number().int().min(1).max(86_400) }).default({ requests: 6, per_seconds: 60 }),
});

/** A parsed policy. */
export type AnomalyPolicy = z.output<typeof AnomalyPolicySchema>;

/**
 * The defaults in code: alert only, except the raw SQL tool for agents and machine clients, which
 * is throttled (a stolen key that starts dumping tables slows to 6 calls a minute for 15 min).
 */
export const DEFAULT_POLICY: AnomalyPolicy = AnomalyPolicySchema.parse({
  default: { person: 'alert', agent: 'alert', machine: 'alert' },
  tools: { sql_select: { agent: 'throttle', machine: 'throttle' } },
});

/** Parses ANOMALY_POLICY (JSON text): members given replace the defaults' members; throws with the reason. */
export function parsePolicy(text: string): AnomalyPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  const parsed = AnomalyPolicySchema.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  const given = raw as Record<string, unknown>;
  return {
    default: { ...DEFAULT_POLICY.default, ...parsed.data.default },
    tools: 'tools' in given ? parsed.data.tools : DEFAULT_POLICY.tools,
    duration_seconds: parsed.data.duration_seconds,
    throttle: parsed.data.throttle,
  };
}

/** The action for an alerting call of `tool` by a principal of `kind`; a fresh sign-in means nothing to a key, so it blocks instead. */
export function actionFor(policy: AnomalyPolicy, tool: string, kind: PolicyKind): AnomalyAction {
  const own = Object.hasOwn(policy.tools, tool) ? policy.tools[tool]?.[kind] : undefined;
  const action = own ?? policy.default[kind] ?? 'alert';
  return action === 'reauth' && kind !== 'person' ? 'block' : action;
}
