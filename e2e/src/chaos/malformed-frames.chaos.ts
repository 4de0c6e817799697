import { parseClientFrame } from '@xiaoyue/shared';
import { startTestRedis } from '@xiaoyue/test-support';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { startSystem } from '../system.js';

const FRAMES = Number(process.env.CHAOS_FRAMES ?? 10_000);

/** Frames a buggy or hostile client might send: junk text, wrong types, unknown actions, huge values. */
const malformedFrame = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json().map((json) => json),
  fc
    .record(
      {
        action: fc.oneof(
          fc.constantFrom('chat', 'reset', 'get_state', 'set_sulking', 'CHAT', '', 'dance'),
          fc.string(),
          fc.integer(),
        ),
        message: fc.oneof(
          fc.string(),
          fc.integer(),
          fc.constant(null),
          fc.array(fc.string()),
          fc.string({ minLength: 501, maxLength: 2_000 }),
        ),
        level: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
        request_id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
      },
      { requiredKeys: [] },
    )
    .map((record) => JSON.stringify(record)),
  fc.string({ minLength: 16_385, maxLength: 20_000 }),
);

it(`R5: ${FRAMES} generated malformed frames: each answered with an error, the socket stays, state unchanged, 0 crashes`, async () => {
  const redis = await startTestRedis();
  // Invalid frames count against the rate budget (R10 floods it): this one lets the whole fuzz
  // through, so that every frame reaches the parser.
  const system = await startSystem({
    redisUrl: redis.url,
    gatewayEnv: { RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_BURST: '10000' },
  });
  const limits = { maxFrameBytes: 16_384, maxMessageChars: 500 };
  // Only frames the gateway must refuse: a valid `reset` would legitimately change the state.
  const frames = fc
    .sample(malformedFrame, FRAMES * 2)
    .filter((frame) => !parseClientFrame(frame, limits).ok)
    .slice(0, FRAMES);
  try {
    const client = await system.connect('fuzzed', '');
    await client.next('welcome');
    await client.request({ action: 'set_sulking', level: 2 }, 'sulking_set');
    for (const frame of frames) client.send(frame);
    let errors = 0;
    let rateLimited = 0;
    for (let i = 0; i < frames.length; i++) {
      const answer = await client.next(() => true, 10_000);
      if (answer.type === 'error') errors++;
      if (answer.data.code === 'rate_limited') rateLimited++;
    }
    const state = await client.request({ action: 'get_state' }, 'state');
    console.log(
      `CHAOS R5 malformed frames: sent ${frames.length}, answered with an error ${errors}, closed 0, crashes 0`,
    );
    expect(errors).toBe(frames.length);
    expect(rateLimited).toBe(0);
    expect(state.data).toMatchObject({ sulking_level: 2, history_length: 0 });
    expect(client.socket.readyState).toBe(client.socket.OPEN);
    for (const service of [system.gateway, system.agent, system.tts]) expect(service.process.exitCode).toBeNull();
  } finally {
    await system.stop();
    await redis.stop();
  }
});
