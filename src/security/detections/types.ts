/** The subset of Sigma this server evaluates: detection rules (selections, modifiers, conditions) and correlation rules (event_count, value_count, temporal). Pure types. */

/** Sigma's levels (also the alert severities). */
export type SigmaLevel = 'informational' | 'low' | 'medium' | 'high' | 'critical';

/** A selection value: a scalar, or null (the field is absent). */
export type SigmaValue = string | number | boolean | null;

/** A selection: a map of `field|modifier…` to one value or a list (OR), or a list of such maps (OR). */
export type Selection = Record<string, SigmaValue | SigmaValue[]> | Array<Record<string, SigmaValue | SigmaValue[]>>;

/** Metadata every rule carries. */
export interface RuleMeta {
  title: string;
  id: string;
  name?: string | undefined;
  status?: string | undefined;
  description?: string | undefined;
  author?: string | undefined;
  date?: string | undefined;
  level?: SigmaLevel | undefined;
  tags?: string[] | undefined;
  falsepositives?: string[] | undefined;
  references?: string[] | undefined;
}

/** A detection rule: events from a log source that match its condition. */
export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  logsource: { product?: string; service?: string; category?: string };
  detection: { condition: string } & Record<string, Selection | string>;
}

/** A metric condition: one or more comparisons, all of which must hold; `field` for value_count. */
export interface MetricCondition {
  field?: string | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
  eq?: number | undefined;
}

/** A correlation rule over the events of other rules (by name or id). */
export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  correlation: {
    type: 'event_count' | 'value_count' | 'temporal';
    rules: string[];
    'group-by': string[];
    timespan: string;
    condition?: MetricCondition | undefined;
  };
}

/** Any rule. */
export type Rule = DetectionRule | CorrelationRule;

/** A flattened document (an ECS export line). */
export type Doc = Record<string, unknown>;

/** One hit of a rule: the group it is about, its time window, the events that made it. */
export interface Hit {
  ruleId: string;
  title: string;
  level: SigmaLevel;
  /** The group-by values (field to value); for a detection rule, the event id. */
  group: Record<string, string>;
  /** A stable key of the group (for deduplication). */
  groupKey: string;
  /** ISO times of the first and last event of the hit. */
  windowStart: string;
  windowEnd: string;
  /** Events counted (event_count, detection), distinct values (value_count), rules seen (temporal). */
  count: number;
  /** Ids of the events (up to 20). */
  eventIds: string[];
}
