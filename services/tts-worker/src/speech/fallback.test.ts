import { type FakeEdgeTts, fakeAudioFor, freePort, rejectionOf, startFakeEdgeTts } from '@xiaoyue/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTtsEnv } from '../env.js';
import { EdgeSpeechSynthesizer } from './edge.js';
import { EspeakSpeechSynthesizer } from './espeak.js';
import { WasmEspeakSpeechSynthesizer } from './espeak-wasm.js';
import { FallbackSpeechSynthesizer } from './fallback.js';
import { createSpeechSynthesizer } from './index.js';
import { SpeechError, type SpeechRequest, type SpeechSynthesizer } from './types.js';

let edge: FakeEdgeTts;
beforeAll(async () => {
  edge = await startFakeEdgeTts();
});
afterEach(() => edge.reset());
// The offline voice every machine has (npm); the system one is only used to fail (a bad path).
const wasmVoice = new WasmEspeakSpeechSynthesizer({ timeoutMs: 15_000, threads: 1 });
afterAll(() => Promise.all([edge.close(), wasmVoice.close()]));

const request: SpeechRequest = {
  text: '师兄好',
  voice: 'zh-CN-XiaoxiaoNeural',
  prosody: { rate: '+0%', volume: '+0%', pitch: '+0Hz' },
};
const live = () => new AbortController().signal;
const espeak = () => wasmVoice;
const brokenEspeak = () => new EspeakSpeechSynthesizer({ timeoutMs: 5_000, espeakPath: '/nonexistent/espeak-ng' });
// Edge's endpoint is a process-wide static in msedge-tts: each test builds its Edge just before use.
const localEdge = (timeoutMs = 2_000) => new EdgeSpeechSynthesizer({ endpoint: edge.url, timeoutMs });
const unreachableEdge = async () =>
  new EdgeSpeechSynthesizer({ endpoint: `ws://127.0.0.1:${await freePort()}/edge`, timeoutMs: 1_000 });

/** A real provider that also counts the requests it was given. */
function counted(inner: SpeechSynthesizer): SpeechSynthesizer & { calls: number } {
  return {
    name: inner.name,
    calls: 0,
    synthesize(r, s) {
      this.calls++;
      return inner.synthesize(r, s);
    },
  };
}

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SpeechError);

describe('speech fallback', () => {
  it('speaks with espeak when Edge refuses the connection', async () => {
    const speech = new FallbackSpeechSynthesizer(await unreachableEdge(), espeak());
    expect(speech.name).toBe('edge+espeak');
    const result = await speech.synthesize(request, live());
    expect(result.audio[0]).toBe(0xff); // lamejs's mp3, not Edge's
    expect(result.audio.length).toBeGreaterThan(1_000);
  });

  it('does not call the fallback when Edge speaks', async () => {
    const fallback = counted(espeak());
    const result = await new FallbackSpeechSynthesizer(localEdge(), fallback).synthesize(request, live());
    expect(result.audio.equals(fakeAudioFor(request.text))).toBe(true);
    expect(fallback.calls).toBe(0);
  });

  it('falls back on any provider failure, e.g. a broken espeak primary', async () => {
    const speech = new FallbackSpeechSynthesizer(brokenEspeak(), espeak());
    expect((await speech.synthesize(request, live())).audio.length).toBeGreaterThan(1_000);
  });

  it('reports both failures when the fallback fails too', async () => {
    const speech = new FallbackSpeechSynthesizer(await unreachableEdge(), brokenEspeak());
    const error = await failure(speech.synthesize(request, live()));
    expect(error.kind).toBe('rejected');
    expect(error.message).toMatch(/^edge: cannot reach Edge.*; espeak: .*not installed/);
  });

  it('does not fall back when the caller aborts during the Edge synthesis', async () => {
    edge.enqueue({ kind: 'speak', delayMs: 2_000 });
    const fallback = counted(espeak());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(
      new FallbackSpeechSynthesizer(localEdge(), fallback).synthesize(request, controller.signal),
    );
    expect(error.kind).toBe('aborted');
    expect(fallback.calls).toBe(0);
  });

  it('leaves espeak time to speak within the caller budget when Edge hangs (configured from env)', async () => {
    edge.enqueue({ kind: 'hang' });
    const env = loadTtsEnv({ EDGE_TTS_URL: edge.url, TTS_TIMEOUT_MS: '4000' });
    const speech = createSpeechSynthesizer(env);
    expect(speech.name).toBe('edge+espeak');
    await speech.prepare?.(); // as the service does before taking jobs (OFFLINE_VOICE=auto measures)
    try {
      // The worker gives a synthesis TTS_TIMEOUT_MS in all (speak.ts).
      const result = await speech.synthesize(request, AbortSignal.timeout(env.TTS_TIMEOUT_MS));
      expect(result.audio[0]).toBe(0xff);
      expect(edge.requests).toHaveLength(1); // Edge got the line and never answered
    } finally {
      await speech.close?.();
    }
  });
});

describe('provider selection', () => {
  it.each([
    [{}, 'edge+espeak'],
    [{ TTS_FALLBACK: 'none' }, 'edge'],
    [{ TTS_PROVIDER: 'espeak' }, 'espeak'],
    [{ TTS_PROVIDER: 'espeak', TTS_FALLBACK: 'none' }, 'espeak'],
  ])('%o speaks with %s', async (env, name) => {
    // The system engine: naming the provider needs no WASM threads to be started and closed.
    const speech = createSpeechSynthesizer(loadTtsEnv({ EDGE_TTS_URL: edge.url, OFFLINE_VOICE: 'system', ...env }));
    expect(speech.name).toBe(name);
    await speech.close?.();
  });

  it('refuses an unknown provider at start', () => {
    expect(() => loadTtsEnv({ TTS_PROVIDER: 'polly' })).toThrow(/TTS_PROVIDER/);
    expect(() => loadTtsEnv({ TTS_FALLBACK: 'edge' })).toThrow(/TTS_FALLBACK/);
    expect(() => loadTtsEnv({ OFFLINE_VOICE: 'espeak' })).toThrow(/OFFLINE_VOICE/);
  });
});
