import { type FakeEdgeTts, fakeAudioFor, freePort, rejectionOf, startFakeEdgeTts } from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EdgeSpeechSynthesizer } from './edge.js';
import { SpeechError } from './types.js';

let fake: FakeEdgeTts;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  fake = await startFakeEdgeTts();
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
});
afterEach(() => fake.reset());
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  process.off('uncaughtException', onUnhandled);
  await fake.close();
  expect(unhandled).toEqual([]);
});

const request = {
  text: '你好，师兄！',
  voice: 'zh-CN-XiaoxiaoNeural',
  prosody: { rate: '+5%', volume: '-5%', pitch: '+0Hz' },
};
const edge = (timeoutMs = 2_000) => new EdgeSpeechSynthesizer({ endpoint: fake.url, timeoutMs });

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SpeechError);

describe('EdgeSpeechSynthesizer against a local read-aloud server', () => {
  it('returns the complete mp3 with word boundaries in ms', async () => {
    const result = await edge().synthesize(request, new AbortController().signal);
    expect(result.audio.equals(fakeAudioFor('你好，师兄！'))).toBe(true);
    expect(result.wordBoundaries.map((w) => w.text)).toEqual(['你好', '师兄']);
    expect(result.wordBoundaries[0]).toMatchObject({ offsetMs: 50, durationMs: 360 });
  });

  it('sends voice, prosody, format and the Edge handshake details', async () => {
    await edge().synthesize(request, new AbortController().signal);
    expect(fake.requests[0]).toMatchObject({
      voice: 'zh-CN-XiaoxiaoNeural',
      rate: '+5%',
      volume: '-5%',
      pitch: '+0Hz',
      outputFormat: 'audio-24khz-48kbitrate-mono-mp3',
      wordBoundaryEnabled: true,
      origin: 'chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold',
    });
    expect(fake.requests[0]?.query.get('TrustedClientToken')).toBeTruthy();
  });

  it('escapes XML so that any text keeps the SSML valid', async () => {
    const text = `师兄说 "<剑> & '刀'" 吗？`;
    const result = await edge().synthesize({ ...request, text }, new AbortController().signal);
    expect(fake.requests[0]?.text).toBe(text);
    expect(result.audio.equals(fakeAudioFor(text))).toBe(true);
  });

  it.each([
    [{ kind: 'reject', status: 403 } as const, 'rejected'],
    [{ kind: 'truncate' } as const, 'truncated'],
  ])('turns %o into a %s SpeechError', async (behaviour, kind) => {
    fake.enqueue(behaviour);
    expect((await failure(edge().synthesize(request, new AbortController().signal))).kind).toBe(kind);
  });

  it('times out a server that never answers', async () => {
    fake.enqueue({ kind: 'hang' });
    const started = Date.now();
    expect((await failure(edge(300).synthesize(request, new AbortController().signal))).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('stops when the caller aborts', async () => {
    fake.enqueue({ kind: 'speak', delayMs: 2_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect((await failure(edge().synthesize(request, controller.signal))).kind).toBe('aborted');
    await new Promise((r) => setTimeout(r, 2_200)); // late frames must not crash anything
  });

  it('reports a refused connection as a network error', async () => {
    const closed = new EdgeSpeechSynthesizer({ endpoint: `ws://127.0.0.1:${await freePort()}/x`, timeoutMs: 1_000 });
    expect((await failure(closed.synthesize(request, new AbortController().signal))).kind).toBe('network');
    // Put the endpoint back for the other tests (it is a process-wide static).
    edge();
  });
});
