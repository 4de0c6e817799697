import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type JsonSchema, openAiSchemaOf } from './openai-schema.js';
import { AgentReply } from './reply-contract.js';
import { parseReply, TranslationVerdict } from './types.js';

/** Every object node of a schema, with its path. */
function objects(node: JsonSchema, path = '$'): [string, JsonSchema][] {
  const own: [string, JsonSchema][] = node.properties ? [[path, node]] : [];
  const children = [
    ...Object.entries((node.properties as Record<string, JsonSchema>) ?? {}).map(
      ([k, v]) => [`${path}.${k}`, v] as const,
    ),
    ...(node.items ? [[`${path}[]`, node.items as JsonSchema] as const] : []),
    ...((node.anyOf as JsonSchema[]) ?? []).map((v, i) => [`${path}|${i}`, v] as const),
  ];
  return [...own, ...children.flatMap(([p, v]) => objects(v, p))];
}

describe('openAiSchemaOf (strict structured output)', () => {
  const schema = openAiSchemaOf(AgentReply);

  it('closes every object and requires every property, nested ones included', () => {
    const found = objects(schema);
    expect(found.map(([path]) => path)).toEqual(
      expect.arrayContaining(['$', '$.quiz_list|0[]|0', '$.correction|0', '$.learner_facts|0']),
    );
    for (const [path, node] of found) {
      expect(node.additionalProperties, path).toBe(false);
      expect(node.required, path).toEqual(Object.keys(node.properties as object));
    }
  });

  it('keeps the speaking order and the vocabulary', () => {
    const properties = schema.properties as Record<string, JsonSchema>;
    expect(Object.keys(properties).slice(0, 2)).toEqual(['emotion', 'chinese_content']);
    expect(properties.emotion).toMatchObject({ type: 'string', enum: expect.arrayContaining(['sulking']) });
  });

  it('makes plain optional properties nullable, and sends no keyword strict mode refuses', () => {
    const quiz = objects(schema).find(([path]) => path === '$.quiz_list|0[]|0')?.[1] as JsonSchema;
    expect((quiz.properties as Record<string, JsonSchema>).card_id).toEqual({
      anyOf: [{ type: 'string', description: expect.any(String) }, { type: 'null' }],
    });
    // A defaulted property is a plain required one: the model writes it.
    expect((quiz.properties as Record<string, JsonSchema>).hint).toMatchObject({ type: 'string' });
    const text = JSON.stringify(schema);
    for (const refused of ['"default"', '"minLength"', '"maxLength"', '"maxItems"', '"$schema"']) {
      expect(text).not.toContain(refused);
    }
  });

  it('reads the nulls a strict model writes for "nothing" as left out', () => {
    const reply = parseReply(
      JSON.stringify({
        emotion: 'happy',
        chinese_content: '好！',
        pinyin: 'Hǎo!',
        vietnamese_display: 'Tốt!',
        action: 'quiz',
        quiz_list: [
          {
            type: 'fill',
            question: '我有一___书。',
            options: [],
            answer: '本',
            hint: '',
            explanation: '',
            card_id: null,
          },
        ],
        correction: null,
        user_tone: 'polite',
        learner_facts: { name: null, interests: ['武术'] },
        thought: '',
      }),
    );
    expect(reply.quiz_list).toHaveLength(1);
    expect(reply.quiz_list[0]?.card_id).toBeUndefined();
    expect(reply.learner_facts).toEqual({ interests: ['武术'] });
  });

  it('derives the verdict schema and refuses keywords it cannot send', () => {
    expect(openAiSchemaOf(TranslationVerdict)).toEqual({
      type: 'object',
      properties: { correct: { type: 'boolean' }, explanation: { type: 'string', description: 'why, in Vietnamese' } },
      required: ['correct', 'explanation'],
      additionalProperties: false,
    });
    expect(() => openAiSchemaOf(z.object({ n: z.number().multipleOf(2) }))).toThrow(/multipleOf/);
  });
});
