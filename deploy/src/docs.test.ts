import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_ACTIONS, EMOTIONS, ERROR_CODES } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './manifests.js';

const asyncapi = parse(readFileSync(join(repoRoot, 'docs', 'protocol', 'asyncapi.yaml'), 'utf8'));
const protocolReadme = readFileSync(join(repoRoot, 'docs', 'protocol', 'README.md'), 'utf8');

/** Every event type the services send (`successFrame('…'`), read from their sources. */
function sentEventTypes(): string[] {
  const types = new Set<string>(['error']);
  const services = readdirSync(join(repoRoot, 'services')).map((name) => join(repoRoot, 'services', name, 'src'));
  for (const src of [...services, join(repoRoot, 'packages', 'shared', 'src')]) {
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      for (const match of readFileSync(join(src, file), 'utf8').matchAll(/successFrame\(\s*'([a-z_]+)'/g)) {
        types.add(match[1] as string);
      }
    }
  }
  return [...types].sort();
}

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

  it('documents every event the services send', () => {
    const names = Object.values(asyncapi.components.messages).map((m) => (m as { name: string }).name);
    const sent = sentEventTypes();
    expect(sent).toEqual(
      expect.arrayContaining(['quiz_result', 'review', 'progress', 'level_set', 'progress_cleared', 'replay_audio']),
    );
    expect(names).toEqual(expect.arrayContaining(sent));
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
    const resolve = (ref: string) =>
      ref
        .slice(2)
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], asyncapi);
    expect(refsOf(asyncapi).filter((ref) => resolve(ref) === undefined)).toEqual([]);
  });
});

describe('the protocol README', () => {
  it('shows an example frame of every client action', () => {
    const missing = CLIENT_ACTIONS.filter((action) => !protocolReadme.includes(`"action":"${action}"`));
    expect(missing).toEqual([]);
  });

  it('explains every error code and names every event', () => {
    expect(ERROR_CODES.filter((code) => !protocolReadme.includes(`| \`${code}\``))).toEqual([]);
    expect(sentEventTypes().filter((type) => !protocolReadme.includes(`\`${type}\``))).toEqual([]);
  });
});
