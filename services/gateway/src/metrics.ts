import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from '@xiaoyue/shared';

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

export function createGatewayMetrics(registry: Registry, socketCount: () => number) {
  return {
    sockets: new Gauge({
      name: 'xiaoyue_gateway_sockets',
      help: 'Open learner sockets on this gateway',
      registers: [registry],
      collect() {
        this.set(socketCount());
      },
    }),
    turnFirstAudio: new Histogram({
      name: 'xiaoyue_turn_first_audio_seconds',
      help: "From a learner's message to the first audio of her reply, as the gateway sends it",
      labelNames: ['mode'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    turnDone: new Histogram({
      name: 'xiaoyue_turn_done_seconds',
      help: "From a learner's message to the end of her reply, as the gateway sends it",
      labelNames: ['mode'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    quizAnswers: new Counter({
      name: 'xiaoyue_quiz_answers_total',
      help: 'Quiz answers graded, by quiz type and whether they were right',
      labelNames: ['type', 'correct'],
      registers: [registry],
    }),
    upgradeRefusals: new Counter({
      name: 'xiaoyue_upgrade_refusals_total',
      help: 'WebSocket upgrades answered over HTTP instead (bad user id, token, origin; throttled; draining; no Redis), by error',
      labelNames: ['error'],
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'xiaoyue_client_errors_total',
      help: 'Error frames sent to clients, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    refusedFrames: new Counter({
      name: 'xiaoyue_refused_frames_total',
      help: "Frames refused for the rate budget: by the socket's own (no Redis command), or by the learner's in Redis (now, or in a retry-after it gave)",
      labelNames: ['budget'],
      registers: [registry],
    }),
  };
}
