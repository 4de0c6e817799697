import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@xiaoyue/shared';

export type TtsMetrics = ReturnType<typeof createTtsMetrics>;

export function createTtsMetrics(registry: Registry) {
  return {
    firstByte: new Histogram({
      name: 'xiaoyue_tts_first_byte_seconds',
      help: 'From asking for speech to its first audio byte',
      labelNames: ['provider'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'xiaoyue_tts_duration_seconds',
      help: 'From asking for speech to the complete audio (or the failure)',
      labelNames: ['provider', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'xiaoyue_tts_failures_total',
      help: 'Syntheses that failed or timed out (the words went out without audio)',
      labelNames: ['provider'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'xiaoyue_tts_cache_lookups_total',
      help: 'Speech cache lookups by result (hit or miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
