import { type Schema, Type } from '@google/genai';
import { ACTIONS, EMOTIONS, QUIZ_TYPES, USER_TONES } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { geminiSchemaOf } from './gemini-schema.js';
import { AGENT_REPLY_FIELD_ORDER, AgentReply } from './reply-contract.js';
import { TranslationVerdict } from './types.js';

const replySchema = geminiSchemaOf(AgentReply);
const field = (name: string): Schema => replySchema.properties?.[name] ?? {};
const quizSchema = field('quiz_list').items ?? {};

/**
 * A value the schema allows: `full` writes every property and one item per array; `sparse` only
 * the required properties, null where allowed, and empty arrays.
 */
function sampleOf(schema: Schema, mode: 'full' | 'sparse'): unknown {
  if (mode === 'sparse' && schema.nullable) return null;
  switch (schema.type) {
    case Type.OBJECT:
      return Object.fromEntries(
        (schema.propertyOrdering ?? [])
          .filter((key) => mode === 'full' || schema.required?.includes(key))
          .map((key) => [key, sampleOf(schema.properties?.[key] ?? {}, mode)]),
      );
    case Type.ARRAY:
      return mode === 'full' ? [sampleOf(schema.items ?? {}, mode)] : [];
    case Type.STRING:
      return schema.enum?.[0] ?? 'x';
    case Type.BOOLEAN:
      return true;
    default:
      throw new Error(`no sample for type ${schema.type}`);
  }
}

describe('the reply contract as a Gemini response schema', () => {
  it('lists every field of the zod schema, in speaking order, all of them required', () => {
    expect(Object.keys(replySchema.properties ?? {})).toEqual(AGENT_REPLY_FIELD_ORDER);
    expect(replySchema.propertyOrdering).toEqual(AGENT_REPLY_FIELD_ORDER);
    expect(replySchema.required).toEqual(AGENT_REPLY_FIELD_ORDER);
    expect(AGENT_REPLY_FIELD_ORDER).toEqual(Object.keys(AgentReply.shape));
  });

  it('offers exactly the emotions, actions, tones and quiz types the services know', () => {
    expect(field('emotion').enum).toEqual([...EMOTIONS]);
    expect(field('action').enum).toEqual([...ACTIONS]);
    expect(field('user_tone').enum).toEqual([...USER_TONES]);
    expect(quizSchema.properties?.type?.enum).toEqual([...QUIZ_TYPES]);
  });

  it("carries the fields' descriptions and orders nested objects too", () => {
    expect(field('chinese_content').description).toBe('what she says, in Chinese (spoken aloud)');
    expect(quizSchema.properties?.answer?.description).toBe('the key; for a choice, one of the options verbatim');
    expect(quizSchema.propertyOrdering).toEqual([
      'type',
      'question',
      'options',
      'answer',
      'hint',
      'explanation',
      'card_id',
    ]);
    expect(field('correction').propertyOrdering).toEqual(['wrong', 'right', 'explanation']);
  });

  it('asks for what the parser would default, and leaves out only plain optional fields', () => {
    expect(quizSchema.required).toEqual(['type', 'question', 'options', 'answer', 'hint', 'explanation']);
    expect(field('correction')).toMatchObject({ nullable: true, required: ['wrong', 'right', 'explanation'] });
    expect(field('learner_facts')).toMatchObject({ nullable: true, propertyOrdering: ['name', 'interests'] });
    expect(field('learner_facts').required).toBeUndefined();
    expect(JSON.stringify(replySchema)).not.toMatch(/"default"|"additionalProperties"|"\$schema"/);
  });

  it.each(['full', 'sparse'] as const)('parses a %s reply that matches the schema', (mode) => {
    const sample = sampleOf(replySchema, mode) as Record<string, unknown>;
    const parsed = AgentReply.safeParse(sample);
    expect(parsed.error).toBeUndefined();
    expect(Object.keys(parsed.data ?? {})).toEqual(expect.arrayContaining(Object.keys(sample)));
    if (mode === 'full') expect(parsed.data?.quiz_list).toHaveLength(1);
  });

  it('keeps every enum value the schema offers (none is caught and replaced)', () => {
    const full = sampleOf(replySchema, 'full') as Record<string, unknown>;
    for (const name of ['emotion', 'action', 'user_tone'] as const) {
      for (const value of field(name).enum ?? [])
        expect(AgentReply.parse({ ...full, [name]: value })[name]).toBe(value);
    }
    const quiz = sampleOf(quizSchema, 'full') as object;
    for (const type of quizSchema.properties?.type?.enum ?? []) {
      expect(AgentReply.parse({ ...full, quiz_list: [{ ...quiz, type }] }).quiz_list[0]?.type).toBe(type);
    }
  });
});

describe('geminiSchemaOf', () => {
  it("derives the translation judge's verdict schema", () => {
    expect(geminiSchemaOf(TranslationVerdict)).toEqual({
      type: Type.OBJECT,
      properties: {
        correct: { type: Type.BOOLEAN },
        explanation: { type: Type.STRING, description: 'why, in Vietnamese' },
      },
      required: ['correct', 'explanation'],
      propertyOrdering: ['correct', 'explanation'],
    });
  });

  it('refuses what Gemini cannot be asked for, rather than send a different schema', () => {
    expect(() => geminiSchemaOf(z.object({ scores: z.record(z.string(), z.number()) }))).toThrow(
      /\$\.scores: .* no "additionalProperties"/,
    );
  });
});
