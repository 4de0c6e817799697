import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_ACTIONS, EMOTIONS, ERROR_CODES, eventCatalog, eventData, type ServerEventType } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoRoot } from './manifests.js';

const asyncapi = parse(readFileSync(join(repoRoot, 'docs', 'protocol', 'asyncapi.yaml'), 'utf8'));
const protocolReadme = readFileSync(join(repoRoot, 'docs', 'protocol', 'README.md'), 'utf8');

/** Every event type the services send: the event catalog. */
const eventTypes = Object.keys(eventCatalog) as ServerEventType[];

/** A node of the document with `$ref`s followed and `allOf` merged (enough for `properties` and `required`). */
function resolved(node: unknown): { properties?: Record<string, unknown>; required?: string[] } {
  if (node === null || typeof node !== 'object') return {};
  const { $ref, allOf, ...rest } = node as { $ref?: string; allOf?: unknown[] };
  const parts = [
    ...($ref ? [resolved(resolveRef($ref))] : []),
    ...(allOf ?? []).map(resolved),
    rest as { properties?: Record<string, unknown>; required?: string[] },
  ];
  return {
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
    required: parts.flatMap((p) => p.required ?? []),
  };
}

function resolveRef(ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], asyncapi);
}

type Message = { name: string; payload?: { properties?: { action?: unknown } } };
const messages = Object.values(asyncapi.components.messages as Record<string, Message>);
/** Server events (a client action's message names the action, e.g. `reset`, too). */
const eventMessages = messages.filter((m) => !m.payload?.properties?.action);

/** Every `$ref` in a document. */
function refsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsOf);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [value] : refsOf(value),
  );
}

describe('the AsyncAPI document of the WebSocket protocol', () => {
  it('is AsyncAPI 3.0 with the chat channel', () => {
    expect(asyncapi.asyncapi).toBe('3.0.0');
    expect(asyncapi.channels.chat.address).toBe('/ws/chat/{user_id}');
  });

  it('lists every client action the gateway accepts', () => {
    const documented = Object.values(asyncapi.components.messages)
      .map(
        (m) => (m as { payload?: { properties?: { action?: { const?: string } } } }).payload?.properties?.action?.const,
      )
      .filter(Boolean);
    expect(documented.sort()).toEqual([...CLIENT_ACTIONS].sort());
  });

  it('documents the streamed reply events', () => {
    const names = Object.values(asyncapi.components.messages).map((m) => (m as { name: string }).name);
    expect(names).toEqual(expect.arrayContaining(['reply', 'reply_start', 'reply_text', 'reply_audio', 'reply_done']));
  });

  it('lists every error code and emotion the code can send', () => {
    const errorData = asyncapi.components.messages.error.payload.allOf[1].properties.data;
    expect(errorData.properties.code.enum.sort()).toEqual([...ERROR_CODES].sort());
    expect(asyncapi.components.schemas.Emotion.enum).toEqual([...EMOTIONS]);
  });

  it('documents exactly the events of the event catalog', () => {
    expect(eventMessages.map((m) => m.name).sort()).toEqual([...eventTypes].sort());
  });

  it.each(eventTypes)('describes the data of `%s` as the catalog does (fields, required fields, seq)', (type) => {
    const message = eventMessages.find((m) => m.name === type) as { payload?: { allOf?: unknown[] } } | undefined;
    const payload = resolved(message?.payload);
    const documented = resolved(payload.properties?.data);
    const schema = z.toJSONSchema(eventData[type], { io: 'output', unrepresentable: 'any' }) as {
      properties: Record<string, unknown>;
      required?: string[];
    };
    expect(Object.keys(documented.properties ?? {}).sort()).toEqual(Object.keys(schema.properties).sort());
    expect([...new Set(documented.required)].sort()).toEqual([...(schema.required ?? [])].sort());
    // Outbox events carry the learner's seq; the gateway's own answers do not.
    const own = resolved(message?.payload?.allOf?.[1]).properties ?? {};
    expect('seq' in own).toBe(eventCatalog[type].delivery === 'outbox');
  });

  it('routes every message through the channel and an operation, and every $ref resolves', () => {
    const messageRefs = Object.keys(asyncapi.components.messages).map((key) => `#/components/messages/${key}`);
    const channelRefs = Object.values(asyncapi.channels.chat.messages).map((m) => (m as { $ref: string }).$ref);
    expect(channelRefs.sort()).toEqual(messageRefs.sort());
    const operationRefs = [
      ...asyncapi.operations.sendAction.messages,
      ...asyncapi.operations.receiveEvent.messages,
    ].map((m: { $ref: string }) => m.$ref.replace('#/channels/chat/messages/', ''));
    expect(operationRefs.sort()).toEqual(Object.keys(asyncapi.channels.chat.messages).sort());
    expect(refsOf(asyncapi).filter((ref) => resolveRef(ref) === undefined)).toEqual([]);
  });
});

describe('the protocol README', () => {
  it('shows an example frame of every client action', () => {
    const missing = CLIENT_ACTIONS.filter((action) => !protocolReadme.includes(`"action":"${action}"`));
    expect(missing).toEqual([]);
  });

  it('explains every error code and names every event', () => {
    expect(ERROR_CODES.filter((code) => !protocolReadme.includes(`| \`${code}\``))).toEqual([]);
    expect(eventTypes.filter((type) => !protocolReadme.includes(`\`${type}\``))).toEqual([]);
  });
});
