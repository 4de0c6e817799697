import type { Schema } from '@google/genai';
import { z } from 'zod';

type JsonSchema = { [keyword: string]: unknown };

/** Gemini's Schema keywords (an OpenAPI 3.0 subset); anything else is refused, not silently sent. */
const GEMINI_KEYWORDS = new Set<string>([
  'anyOf',
  'description',
  'enum',
  'example',
  'format',
  'items',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minItems',
  'minLength',
  'minProperties',
  'minimum',
  'nullable',
  'pattern',
  'properties',
  'required',
  'title',
  'type',
]);
/** Counts that Gemini's Schema types as int64, which JSON carries as strings. */
const INT64_KEYWORDS = new Set(['maxItems', 'maxLength', 'maxProperties', 'minItems', 'minLength', 'minProperties']);

/**
 * A zod schema as a Gemini response schema (`responseSchema`), so that the model is asked for what
 * the parser reads. Derived from the input side (what the parser accepts: `.catch` and `.default`
 * leave the type, transforms keep their input) with zod's OpenAPI 3.0 target, then:
 * - every property the parser would fill with a default is still required, so the model writes
 *   it; only plain `.optional()` fields may be left out;
 * - every object gets `propertyOrdering` in its zod key order: without it Gemini writes properties
 *   in alphabetical order, and streaming needs `emotion` then `chinese_content` first. (Key order
 *   alone is honoured only through `responseJsonSchema` and only from Gemini 2.5 on.)
 */
export function geminiSchemaOf(schema: z.ZodType): Schema {
  return toGeminiSchema(z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' }) as JsonSchema);
}

function toGeminiSchema(node: JsonSchema, path = '$'): Schema {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    // A default is what the server does with a sloppy answer, not what the model is asked for;
    // `required` is recomputed along with `properties`.
    if (keyword === 'default' || keyword === 'required' || (keyword === 'additionalProperties' && value === false))
      continue;
    if (!GEMINI_KEYWORDS.has(keyword)) throw new Error(`${path}: Gemini's response schema has no "${keyword}"`);
    if (keyword === 'type') out.type = String(value).toUpperCase();
    else if (keyword === 'items') out.items = toGeminiSchema(value as JsonSchema, `${path}[]`);
    else if (keyword === 'anyOf') out.anyOf = (value as JsonSchema[]).map((v, i) => toGeminiSchema(v, `${path}|${i}`));
    else if (keyword === 'properties')
      Object.assign(out, objectKeywords(node, value as Record<string, JsonSchema>, path));
    else out[keyword] = INT64_KEYWORDS.has(keyword) ? String(value) : value;
  }
  return out as Schema;
}

function objectKeywords(node: JsonSchema, properties: Record<string, JsonSchema>, path: string) {
  const keys = Object.keys(properties);
  const requiredOnInput = new Set((node.required as string[] | undefined) ?? []);
  const required = keys.filter((key) => requiredOnInput.has(key) || 'default' in (properties[key] ?? {}));
  return {
    properties: Object.fromEntries(keys.map((key) => [key, toGeminiSchema(properties[key] ?? {}, `${path}.${key}`)])),
    ...(required.length > 0 ? { required } : {}),
    propertyOrdering: keys,
  };
}
