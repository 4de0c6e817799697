import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_ACTIONS, EMOTIONS, ERROR_CODES } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './manifests.js';

const asyncapi = parse(readFileSync(join(repoRoot, 'docs', 'protocol', 'asyncapi.yaml'), 'utf8'));

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
});
