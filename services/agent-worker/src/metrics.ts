import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from '@xiaoyue/shared';

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

export function createAgentMetrics(registry: Registry) {
  return {
    llmFirstToken: new Histogram({
      name: 'xiaoyue_llm_first_token_seconds',
      help: 'From asking the LLM to its first fragment (the whole reply when not streaming)',
      labelNames: ['provider'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    llmDuration: new Histogram({
      name: 'xiaoyue_llm_duration_seconds',
      help: 'From asking the LLM to its complete reply, retries included',
      labelNames: ['provider', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    rateLimitPauses: new Counter({
      name: 'xiaoyue_llm_rate_limit_pauses_total',
      help: 'Times the chat queue paused because the LLM answered 429',
      registers: [registry],
    }),
    cancelledTurns: new Counter({
      name: 'xiaoyue_cancelled_turns_total',
      help: 'Streaming turns interrupted by a new message from the learner',
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: 'xiaoyue_fallback_replies_total',
      help: 'Turns answered with a fallback line (LLM failed, or the turn deadline passed)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
