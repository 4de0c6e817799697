import { startFakeEdgeTts, uniquePrefix } from '@xiaoyue/test-support';
import { CachedSpeechSynthesizer, EdgeSpeechSynthesizer } from '@xiaoyue/tts-worker/speech';
import { Redis } from 'ioredis';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round, summarize } from '../stats.js';

export const speechCache: Scenario = { ids: ['P5'], run };

/** P5 a repeated phrase: speech cache hit vs synthesis (TTS fake 300 ms). */
async function run({ redisUrl, quick }: BenchContext): Promise<Row[]> {
  const edge = await startFakeEdgeTts({ default: { kind: 'speak', delayMs: 300 } });
  const redis = new Redis(redisUrl);
  const speech = new CachedSpeechSynthesizer(
    new EdgeSpeechSynthesizer({ endpoint: edge.url, timeoutMs: 5_000 }),
    redis,
    {
      prefix: uniquePrefix('p5'),
      ttlSeconds: 600,
      maxBytes: 64 * 1024 * 1024,
    },
  );
  const request = (text: string) => ({
    text,
    voice: 'zh-CN-XiaoxiaoNeural',
    prosody: { rate: '+5%', volume: '+5%', pitch: '+0Hz' },
  });
  const misses: number[] = [];
  const hits: number[] = [];
  try {
    for (let i = 0; i < (quick ? 5 : 20); i++) {
      const text = `师兄好！今天第${i}次练剑。`;
      let started = performance.now();
      await speech.synthesize(request(text), AbortSignal.timeout(5_000));
      misses.push(performance.now() - started);
      started = performance.now();
      await speech.synthesize(request(text), AbortSignal.timeout(5_000));
      hits.push(performance.now() - started);
    }
  } finally {
    redis.disconnect();
    await edge.close();
  }
  const miss = summarize(misses);
  const hit = summarize(hits);
  return [
    {
      id: 'P5',
      what: 'repeated phrase: cache hit vs synthesis (TTS fake 300 ms)',
      result: `hit p50 ${hit.p50} ms`,
      baseline: `synthesis p50 ${miss.p50} ms`,
      target: '≥ 50× faster',
      met: miss.p50 / hit.p50 >= 50,
      data: { hit, miss, speedup: round(miss.p50 / hit.p50, 0) },
    },
  ];
}
