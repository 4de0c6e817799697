import { freePort } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import { EdgeSpeechSynthesizer } from './edge.js';
import { EspeakSpeechSynthesizer } from './espeak.js';
import { FallbackSpeechSynthesizer } from './fallback.js';
import { SpeechError } from './types.js';

const request = {
  text: '师兄好',
  voice: 'zh-CN-XiaoxiaoNeural',
  prosody: { rate: '+0%', volume: '+0%', pitch: '+0Hz' },
};
const unreachableEdge = async () =>
  new EdgeSpeechSynthesizer({ endpoint: `ws://127.0.0.1:${await freePort()}/edge`, timeoutMs: 1_000 });

describe('speech fallback', () => {
  it('speaks with espeak when Edge cannot be reached', async () => {
    const speech = new FallbackSpeechSynthesizer(
      await unreachableEdge(),
      new EspeakSpeechSynthesizer({ timeoutMs: 5_000 }),
    );
    expect(speech.name).toBe('edge+espeak');
    const result = await speech.synthesize(request, new AbortController().signal);
    expect(result.audio.length).toBeGreaterThan(1_000);
  });

  it('reports both failures when the fallback fails too', async () => {
    const broken = new EspeakSpeechSynthesizer({ timeoutMs: 5_000, espeakPath: '/nonexistent/espeak-ng' });
    const speech = new FallbackSpeechSynthesizer(await unreachableEdge(), broken);
    const error = await speech.synthesize(request, new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpeechError);
    expect((error as Error).message).toMatch(/edge: .*espeak: .*not installed/);
  });

  it('does not fall back when the caller gave up', async () => {
    const controller = new AbortController();
    controller.abort();
    const espeakCalls: string[] = [];
    const espeak = new EspeakSpeechSynthesizer({ timeoutMs: 5_000 });
    const spy = {
      name: 'espeak',
      synthesize: (r: typeof request, s: AbortSignal) => (espeakCalls.push(r.text), espeak.synthesize(r, s)),
    };
    const speech = new FallbackSpeechSynthesizer(await unreachableEdge(), spy);
    await expect(speech.synthesize(request, controller.signal)).rejects.toThrow();
    expect(espeakCalls).toEqual([]);
  });
});
