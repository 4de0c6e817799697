import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRedis, type TestRedis } from '@xiaoyue/test-support';
import { mp3DurationMs } from '@xiaoyue/tts-worker/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Learner } from './learner.js';
import { type RunningSystem, startSystem } from './system.js';

let redis: TestRedis;
let system: RunningSystem;
let client: Learner;
const emptyPath = mkdtempSync(join(tmpdir(), 'no-espeak-'));

beforeAll(async () => {
  redis = await startTestRedis();
  // An empty PATH for the TTS worker (node is started by its full path): no espeak-ng, no lame, as
  // on a fresh machine. Her voice is then the WASM one (OFFLINE_VOICE=auto), given time for a cold
  // start on a busy machine.
  system = await startSystem({ redisUrl: redis.url, ttsEnv: { PATH: emptyPath, TTS_TIMEOUT_MS: '6000' } });
  client = await system.connect('newcomer');
});
afterAll(async () => {
  client?.close();
  await system?.stop();
  await redis?.stop();
  rmSync(emptyPath, { recursive: true, force: true });
});

/** How long the mp3 plays; throws unless it is nothing but well-formed MPEG audio frames. */
const playedMs = (base64: string) => mp3DurationMs(Buffer.from(base64, 'base64'));
/** Milliseconds of her audio per Chinese character of the line: about a syllable's length when spoken. */
const msPerCharacter = (data: Record<string, string | null>) =>
  playedMs(data.audio_base64 ?? '') / [...(data.chinese_content ?? '').matchAll(/\p{Script=Han}/gu)].length;

describe('offline practice mode: no API keys, no network, no system packages', () => {
  it('says it is offline in the welcome', async () => {
    expect((await client.next('welcome')).data).toMatchObject({ user_id: 'newcomer', mode: 'offline' });
  });

  it('answers in character and speaks with the WASM espeak-ng (espeak-ng is not installed for it)', async () => {
    client.send({ action: 'chat', message: '你好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ chinese_content: '师兄好！今天也来练功吗？', emotion: 'happy' });
    expect(reply.data.pinyin).toMatch(/^Shī xiōng hǎo!/);
    expect(reply.data.fallback).toBeUndefined();
    expect(reply.data.audio_error).toBeUndefined();
    const audio = Buffer.from(reply.data.audio_base64 ?? '', 'base64');
    expect([audio[0], (audio[1] ?? 0) & 0xe0]).toEqual([0xff, 0xe0]); // MPEG frame sync
    // Ten syllables and two pauses: seconds of speech, not a click and not a minute.
    expect(playedMs(reply.data.audio_base64 ?? '')).toBeGreaterThan(1_500);
    expect(playedMs(reply.data.audio_base64 ?? '')).toBeLessThan(8_000);
    expect(msPerCharacter(reply.data)).toBeGreaterThan(120);
    expect(msPerCharacter(reply.data)).toBeLessThan(700);
    expect(system.tts.output()).toMatch(/offline voice: wasm espeak-ng \(system espeak-ng \+ lame not installed\)/);
    expect(system.tts.output()).not.toMatch(/speech failed/);
  });

  it('corrects a common mistake', async () => {
    client.send({ action: 'chat', message: '我是很好' });
    const reply = await client.next('reply');
    expect(reply.data).toMatchObject({ action: 'correction' });
    expect(reply.data.chinese_content).toContain('我很好');
  });

  it('quizzes on request', async () => {
    client.send({ action: 'chat', message: '考考我' });
    const reply = await client.next('reply');
    expect(reply.data.action).toBe('quiz');
    expect(reply.data.quiz_list.length).toBe(3);
    // A different line, spoken at the same pace: the audio is this line's.
    expect(msPerCharacter(reply.data)).toBeGreaterThan(120);
    expect(msPerCharacter(reply.data)).toBeLessThan(700);
  });

  it('sulks when treated badly and forgives an apology', async () => {
    client.send({ action: 'chat', message: '你真笨' });
    expect((await client.next('reply')).data).toMatchObject({ sulking_level: 1, emotion: 'sulking' });
    client.send({ action: 'chat', message: '你真笨' });
    expect((await client.next('reply')).data.sulking_level).toBe(2);
    client.send({ action: 'chat', message: '对不起' });
    expect((await client.next('reply')).data.sulking_level).toBe(1);
  });

  it("has one voice, espeak-ng's Mandarin, which speaks even after an Edge voice was chosen", async () => {
    const voices = await client.request({ action: 'get_voices' }, 'voices');
    expect(voices.data).toMatchObject({ voices: [{ name: 'espeak:cmn', locale: 'cmn' }], current: 'espeak:cmn' });
    await client.request({ action: 'set_voice', voice: 'zh-CN-XiaoyiNeural' }, 'voice_set');
    expect((await client.request({ action: 'get_voices' }, 'voices')).data.current).toBe('espeak:cmn');
    client.send({ action: 'chat', message: '你好' });
    const reply = await client.next('reply');
    expect(reply.data.audio_error).toBeUndefined();
    expect(msPerCharacter(reply.data)).toBeGreaterThan(120);
  });
});
