import { z } from 'zod';

export type JsonSchema = { [keyword: string]: unknown };

/** The keywords sent as they are. */
const KEPT = new Set(['type', 'description', 'enum', 'const', 'items', 'anyOf', 'properties']);
/**
 * Bounds that OpenAI's strict mode does not accept (a 400 "… is not permitted") and that
 * constrained decoders of other servers handle unevenly; the parser still enforces them.
 * `default` and `required` are recomputed; `$schema` is the document's dialect, not a constraint.
 */
const DROPPED = new Set([
  '$schema',
  'default',
  'required',
  'additionalProperties',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
]);

/**
 * A zod schema as a JSON schema for OpenAI's strict structured output
 * (`response_format: {type: "json_schema", json_schema: {strict: true, schema}}`), so that the
 * model is asked for what the parser reads. Derived from the input side (what the parser accepts,
 * as Gemini's is: `gemini-schema.ts`), then made strict:
 * - every object has `additionalProperties: false` and every property in `required`;
 * - a property the parser fills with a default is a plain required one (the model writes it);
 * - a plain `.optional()` property becomes nullable (`anyOf [X, null]`): the model writes `null`
 *   for "nothing", which `parseReply` reads as absent;
 * - properties keep the zod key order, which the model writes in (streaming needs `emotion` and
 *   `chinese_content` first).
 * An unknown keyword is refused, not silently sent.
 */
export function openAiSchemaOf(schema: z.ZodType): JsonSchema {
  return toStrict(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as JsonSchema);
}

function toStrict(node: JsonSchema, path = '$'): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (DROPPED.has(keyword)) continue;
    if (!KEPT.has(keyword)) throw new Error(`${path}: no strict JSON schema for "${keyword}"`);
    if (keyword === 'items') out.items = toStrict(value as JsonSchema, `${path}[]`);
    else if (keyword === 'anyOf') out.anyOf = (value as JsonSchema[]).map((v, i) => toStrict(v, `${path}|${i}`));
    else if (keyword === 'properties')
      Object.assign(out, objectKeywords(node, value as Record<string, JsonSchema>, path));
    else out[keyword] = value;
  }
  return out;
}

function objectKeywords(node: JsonSchema, properties: Record<string, JsonSchema>, path: string) {
  const keys = Object.keys(properties);
  const requiredOnInput = new Set((node.required as string[] | undefined) ?? []);
  const strictProperties = keys.map((key) => {
    const property = properties[key] ?? {};
    const strict = toStrict(property, `${path}.${key}`);
    const mayBeLeftOut = !requiredOnInput.has(key) && !('default' in property);
    return [key, mayBeLeftOut ? nullable(strict) : strict] as const;
  });
  return { properties: Object.fromEntries(strictProperties), required: keys, additionalProperties: false };
}

function nullable(schema: JsonSchema): JsonSchema {
  const alternatives = (schema.anyOf as JsonSchema[] | undefined) ?? [];
  if (alternatives.some((a) => a.type === 'null')) return schema;
  return { anyOf: [schema, { type: 'null' }] };
}

/** The schema described for servers that only take JSON mode (`response_format: {type: "json_object"}`). */
export function schemaInstruction(schema: JsonSchema): string {
  return `\n\n只输出一个 JSON 对象（不要 Markdown，不要别的文字），字段按这个 JSON Schema 的顺序写：\n${JSON.stringify(schema)}`;
}
