/** Collects the text of a tool definition a model reads: name, title, description, and every name and string inside the input schema. */
import type { Field, ToolDefinition } from './types.ts';

const MAX_DEPTH = 8;
const MAX_FIELDS = 400;
const PROSE_KEYS = ['description', 'title', 'default', 'examples', 'enum', 'const', 'pattern'] as const;
const NESTED_KEYS = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'] as const;
const LIST_KEYS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const MAP_KEYS = ['$defs', 'definitions', 'patternProperties'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pushStrings(out: Field[], where: string, value: unknown): void {
  if (typeof value === 'string') {
    if (value.length > 0) out.push({ where, text: value, kind: 'prose' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (typeof v === 'string' && v.length > 0) out.push({ where: `${where}[${i}]`, text: v, kind: 'prose' });
    });
  }
}

function walkSchema(out: Field[], schema: unknown, where: string, depth: number): void {
  if (!isRecord(schema) || depth > MAX_DEPTH || out.length > MAX_FIELDS) return;
  for (const key of PROSE_KEYS) pushStrings(out, `${where}.${key}`, schema[key]);
  const props = schema.properties;
  if (isRecord(props)) {
    for (const [name, sub] of Object.entries(props)) {
      const at = `${where}.properties.${name}`;
      out.push({ where: at, text: name, kind: 'param-name' });
      walkSchema(out, sub, at, depth + 1);
    }
  }
  for (const key of NESTED_KEYS) walkSchema(out, schema[key], `${where}.${key}`, depth + 1);
  for (const key of LIST_KEYS) {
    const list = schema[key];
    if (Array.isArray(list)) list.forEach((s, i) => walkSchema(out, s, `${where}.${key}[${i}]`, depth + 1));
  }
  for (const key of MAP_KEYS) {
    const map = schema[key];
    if (isRecord(map)) for (const [name, s] of Object.entries(map)) walkSchema(out, s, `${where}.${key}.${name}`, depth + 1);
  }
}

/** The fields of a definition in a fixed order: name, title, description, then the input schema depth-first. */
export function fieldsOf(def: ToolDefinition): Field[] {
  const out: Field[] = [{ where: 'name', text: def.name, kind: 'name' }];
  if (def.title) out.push({ where: 'title', text: def.title, kind: 'prose' });
  if (def.description) out.push({ where: 'description', text: def.description, kind: 'prose' });
  walkSchema(out, def.inputSchema, 'inputSchema', 0);
  return out;
}
