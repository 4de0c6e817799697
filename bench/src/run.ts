// `pnpm bench`: XiaoYue's speed and memory, each figure beside a baseline measured in the same run.
//   pnpm bench [--only P1,P3] [--quick]
// Starts its own redis-server, the local Gemini/Edge fakes (latencies as parameters) and the real
// services as processes; prints a table and writes JSON to bench/results/.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FakeEdgeTts,
  type FakeGemini,
  freePort,
  repoRoot,
  type ServiceProcess,
  spawnRedisServer,
  startFakeEdgeTts,
  startFakeGemini,
  startService,
  uniquePrefix,
} from '@xiaoyue/test-support';
import WebSocket from 'ws';
import { bareTwoHops } from './baseline.js';
import { percentile, round, summarize } from './stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : undefined;
const wanted = (id: string) => !only || only.includes(id);

interface Row {
  id: string;
  what: string;
  result: string;
  baseline: string;
  target: string;
  met: boolean | null;
  data: Record<string, unknown>;
}
const rows: Row[] = [];

// ---------------------------------------------------------------------------------------------
// Running the system

interface System {
  url: string;
  gateway: ServiceProcess;
  stop(): Promise<void>;
}

async function startSystem(
  redisUrl: string,
  gemini: FakeGemini,
  edge: FakeEdgeTts,
  env: Record<string, string> = {},
): Promise<System> {
  const port = await freePort();
  const common = {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: uniquePrefix('bench'),
    TURN_TIMEOUT_MS: '30000',
    // e.g. BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the services
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    ...env,
  };
  const services = await Promise.all([
    startService(
      'gateway',
      {
        ...common,
        PORT: String(port),
        HOST: '127.0.0.1',
        AUTH_MODE: 'dev',
        RATE_LIMIT_PER_MINUTE: '100000',
        RATE_LIMIT_BURST: '1000',
      },
      { readyTimeoutMs: 30_000 },
    ),
    startService('agent-worker', {
      ...common,
      GEMINI_API_KEY: 'bench',
      GEMINI_BASE_URL: gemini.url,
      AGENT_CONCURRENCY: '200',
    }),
    startService('tts-worker', { ...common, EDGE_TTS_URL: edge.url, TTS_FALLBACK: 'none', TTS_CONCURRENCY: '200' }),
  ]);
  return {
    url: `ws://127.0.0.1:${port}/ws/chat`,
    gateway: services[0],
    stop: async () => void (await Promise.all(services.map((s) => s.stop()))),
  };
}

/** A learner: sends a message, resolves when the frame `done` says the turn is over. */
class Learner {
  private waiter: ((frame: { type: string; data: Record<string, unknown> }) => void) | undefined;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.waiter?.(frame);
    });
  }

  static async connect(url: string): Promise<Learner> {
    const socket = new WebSocket(url);
    const learner = new Learner(socket);
    await new Promise<void>((resolve, reject) => {
      learner.waiter = (frame) => frame.type === 'welcome' && resolve();
      socket.once('error', reject);
    });
    return learner;
  }

  /** Sends a chat; resolves with ms until `until(frame)` first holds. */
  turn(message: string, until: (frame: { type: string; data: Record<string, unknown> }) => boolean): Promise<number> {
    this.socket.send(JSON.stringify({ action: 'chat', message }));
    return this.waitFor(until);
  }

  /** Resolves with ms until a frame for which `until(frame)` holds arrives. */
  waitFor(until: (frame: { type: string; data: Record<string, unknown> }) => boolean): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('turn timed out')), 30_000);
      this.waiter = (frame) => {
        if (frame.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`error frame: ${JSON.stringify(frame.data)}`));
        } else if (until(frame)) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(performance.now() - started);
        }
      };
    });
  }

  close() {
    this.socket.close();
  }
}

const isReplyWithAudio = (f: { type: string; data: Record<string, unknown> }) =>
  f.type === 'reply' && typeof f.data.audio_base64 === 'string';
const isFirstAudio = (f: { type: string; data: Record<string, unknown> }) =>
  (f.type === 'reply' || f.type === 'reply_audio') && typeof f.data.audio_base64 === 'string';

function rssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const redis = await spawnRedisServer();
  console.log(`bench: redis ${redis.url}${quick ? ' (quick run)' : ''}`);
  try {
    if (wanted('P5')) await p5(redis.url);
    if (wanted('P1') || wanted('P2')) await p1p2(redis.url);
    if (wanted('P3')) await p3(redis.url);
    if (wanted('P4')) await p4(redis.url);
    if (wanted('P6')) await p6(redis.url);
  } finally {
    await redis.stop();
  }
  report();
}

/** P1 overhead per turn and P2 sustained turns/s, with zero-latency fakes. */
async function p1p2(redisUrl: string) {
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  const system = await startSystem(redisUrl, gemini, edge);
  const baseline = await bareTwoHops(redisUrl, uniquePrefix('baseline'));
  try {
    if (wanted('P1')) {
      const turns = quick ? 100 : 500;
      const learner = await Learner.connect(`${system.url}/p1-learner`);
      for (let i = 0; i < 30; i++) await learner.turn(`热身 ${i}`, isReplyWithAudio); // warm up JIT and pools
      const times: number[] = [];
      for (let i = 0; i < turns; i++)
        times.push(await learner.turn(process.env.P1_SAME ? '你好' : `你好 ${i}`, isReplyWithAudio));
      learner.close();
      await baseline.latency(50);
      const bare = await baseline.latency(turns);
      const ours = summarize(times);
      const base = summarize(bare);
      rows.push({
        id: 'P1',
        what: 'overhead per turn, zero-latency fakes (WS in → reply with audio out)',
        result: `p50 ${ours.p50} ms, p99 ${ours.p99} ms (${turns} turns)`,
        baseline: `bare 2 BullMQ hops + PUBLISH: p50 ${base.p50} ms, p99 ${base.p99} ms`,
        target: 'p50 ≤ 2.5× baseline; p99 ≤ 15 ms',
        met: ours.p50 <= 2.5 * base.p50 && ours.p99 <= 15,
        data: { ours, baseline: base, ratioP50: round(ours.p50 / base.p50) },
      });
    }
    if (wanted('P2')) {
      const users = quick ? 50 : 200;
      const seconds = quick ? 5 : 15;
      const learners = await Promise.all(
        Array.from({ length: users }, (_, i) => Learner.connect(`${system.url}/p2-${i}`)),
      );
      const until = performance.now() + seconds * 1000;
      let sent = 0;
      let delivered = 0;
      let failed = 0;
      const times: number[] = [];
      await Promise.all(
        learners.map(async (learner, u) => {
          for (let i = 0; performance.now() < until; i++) {
            sent++;
            try {
              times.push(await learner.turn(`用户${u}第${i}句`, isReplyWithAudio));
              delivered++;
            } catch {
              failed++;
            }
          }
        }),
      );
      for (const learner of learners) learner.close();
      const base = await baseline.throughput(users, seconds);
      const perSecond = delivered / seconds;
      rows.push({
        id: 'P2',
        what: `sustained turns/s, zero-latency fakes, ${users} users for ${seconds} s`,
        result: `${round(perSecond, 0)} turns/s, ${delivered} delivered, ${sent - delivered} lost (${failed} failed), p99 ${round(percentile(times, 99))} ms`,
        baseline: `bare 2 hops: ${round(base.perSecond, 0)} round trips/s, p99 ${round(base.p99)} ms`,
        target: '≥ 2,000 turns/s, 0 lost',
        met: perSecond >= 2000 && sent === delivered,
        data: { users, seconds, sent, delivered, failed, perSecond, p99: percentile(times, 99), baseline: base },
      });
    }
  } finally {
    await baseline.close();
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
  }
}

/** P3 time to first audio: streaming vs the seed's whole-reply mode, with realistic latencies. */
async function p3(redisUrl: string) {
  const gemini = await startFakeGemini({ latency: { firstTokenMs: 400, tokensPerSecond: 50 } });
  const edge = await startFakeEdgeTts({ default: { kind: 'speak', delayMs: 300, msPerChar: 10 } });
  const system = await startSystem(redisUrl, gemini, edge);
  const runs = quick ? 3 : 8;
  // A reply as Gemini writes it: every field filled, pinyin and Vietnamese as long as a real one.
  const reply = (n: number) => ({
    emotion: 'happy',
    chinese_content: `师兄早上好，这是第${n}次！今天我们一起去后山练剑吧。师父说你最近进步很大，我也为你高兴。`,
    pinyin: `Shīxiōng zǎoshang hǎo, zhè shì dì ${n} cì! Jīntiān wǒmen yìqǐ qù hòushān liàn jiàn ba. Shīfu shuō nǐ zuìjìn jìnbù hěn dà, wǒ yě wèi nǐ gāoxìng.`,
    vietnamese_display: `Chào buổi sáng sư huynh, đây là lần thứ ${n}! Hôm nay chúng ta cùng lên núi sau luyện kiếm nhé. Sư phụ nói dạo này huynh tiến bộ nhiều lắm, muội cũng mừng cho huynh.`,
    action: 'none',
    quiz_list: [],
    user_tone: 'polite',
    thought: 'benchmark',
  });
  try {
    const measure = async (stream: boolean) => {
      const learner = await Learner.connect(
        `${system.url}/p3-${stream ? 'stream' : 'seed'}${stream ? '?stream=1' : ''}`,
      );
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        // A new text every time: the TTS cache must not help either mode.
        gemini.enqueue({ kind: 'reply', body: reply(i + (stream ? 1000 : 0)) });
        const done = stream ? (f: { type: string }) => f.type === 'reply_done' : isReplyWithAudio;
        let firstAudio: number | undefined;
        const started = performance.now();
        await learner.turn('早上好', (f) => {
          if (firstAudio === undefined && isFirstAudio(f)) firstAudio = performance.now() - started;
          return done(f);
        });
        times.push(firstAudio ?? Number.NaN);
      }
      learner.close();
      return times;
    };
    const seed = summarize(await measure(false));
    const streamed = summarize(await measure(true));
    rows.push({
      id: 'P3',
      what: 'time to first audio: LLM 400 ms + 50 tok/s, TTS 300 ms + 10 ms/char',
      result: `streaming: p50 ${streamed.p50} ms`,
      baseline: `seed mode: p50 ${seed.p50} ms`,
      target: '≤ 0.4× seed',
      met: streamed.p50 <= 0.4 * seed.p50,
      data: { seed, streamed, ratio: round(streamed.p50 / seed.p50) },
    });
  } finally {
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
  }
}

/** Opens `count` idle sockets to `url` from a separate process; resolves once all are open. */
async function holdSockets(url: string, count: number): Promise<ChildProcess> {
  const script = `
    const WebSocket = require(${JSON.stringify(join(repoRoot, 'node_modules', 'ws'))});
    const [url, count] = process.argv.slice(1);
    let open = 0, failed = 0;
    const sockets = [];
    (async () => {
      for (let i = 0; i < Number(count); i += 200) {
        await Promise.all(Array.from({ length: Math.min(200, Number(count) - i) }, (_, j) => new Promise((resolve) => {
          const ws = new WebSocket(url.replace('{i}', String(i + j)));
          ws.once('open', () => { open++; resolve(); });
          ws.once('error', () => { failed++; resolve(); });
          sockets.push(ws);
        })));
      }
      process.stdout.write(JSON.stringify({ open, failed }) + '\\n');
    })();
  `;
  const child = spawn(process.execPath, ['-e', script, url, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  return child;
}

/** P4 memory per idle socket in one gateway, beside a bare `ws` server holding as many. */
async function p4(redisUrl: string) {
  const count = quick ? 2_000 : 20_000;
  // Bare ws server.
  const barePort = await freePort();
  const bare = spawn(
    process.execPath,
    [
      '-e',
      `const { WebSocketServer } = require(${JSON.stringify(join(repoRoot, 'node_modules', 'ws'))}); new WebSocketServer({ port: ${barePort}, host: '127.0.0.1' }); console.log('up');`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => bare.stdout?.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 500));
  const bareBefore = rssMb(bare.pid);
  const bareClients = await holdSockets(`ws://127.0.0.1:${barePort}/`, count);
  await new Promise((r) => setTimeout(r, 1_000));
  const bareAfter = rssMb(bare.pid);
  bareClients.kill();
  bare.kill();

  const port = await freePort();
  const gateway = await startService('gateway', {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: uniquePrefix('p4'),
    PORT: String(port),
    HOST: '127.0.0.1',
    AUTH_MODE: 'dev',
  });
  await new Promise((r) => setTimeout(r, 500));
  const before = rssMb(gateway.process.pid);
  const clients = await holdSockets(`ws://127.0.0.1:${port}/ws/chat/idle-{i}`, count);
  await new Promise((r) => setTimeout(r, 2_000));
  const after = rssMb(gateway.process.pid);
  clients.kill();
  await gateway.stop();

  const perSocketKb = ((after - before) * 1024) / count;
  const barePerSocketKb = ((bareAfter - bareBefore) * 1024) / count;
  rows.push({
    id: 'P4',
    what: `idle sockets held by one gateway process (${count})`,
    result: `RSS ${round(after, 0)} MB (+${round(after - before, 0)} MB, ${round(perSocketKb, 1)} KB/socket)`,
    baseline: `bare ws server: +${round(bareAfter - bareBefore, 0)} MB, ${round(barePerSocketKb, 1)} KB/socket`,
    target: '20,000 sockets ≤ 600 MB; ≤ 2× bare memory/socket',
    met: after <= 600 * (count / 20_000) + before && perSocketKb <= 2 * barePerSocketKb,
    data: { count, before, after, bareBefore, bareAfter, perSocketKb, barePerSocketKb },
  });
}

/** P5 a repeated phrase: speech cache hit vs synthesis (TTS fake 300 ms). */
async function p5(redisUrl: string) {
  const edge = await startFakeEdgeTts({ default: { kind: 'speak', delayMs: 300 } });
  const { EdgeSpeechSynthesizer } = await import(join(repoRoot, 'services/tts-worker/dist/speech/edge.js'));
  const { CachedSpeechSynthesizer } = await import(join(repoRoot, 'services/tts-worker/dist/speech/cache.js'));
  const { Redis } = await import('ioredis');
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
  rows.push({
    id: 'P5',
    what: 'repeated phrase: cache hit vs synthesis (TTS fake 300 ms)',
    result: `hit p50 ${hit.p50} ms`,
    baseline: `synthesis p50 ${miss.p50} ms`,
    target: '≥ 50× faster',
    met: miss.p50 / hit.p50 >= 50,
    data: { hit, miss, speedup: round(miss.p50 / hit.p50, 0) },
  });
}

/**
 * P6 a learner's progress at scale: what a turn reads of it (level, profile, due cards) and
 * `get_progress`, for a learner with 5,000 review cards against one with 10, and grading an answer.
 */
async function p6(redisUrl: string) {
  const { LearnerStore, redisKeys, answerQuiz } = await import('@xiaoyue/shared');
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  const learners = new LearnerStore(redis, redisKeys(uniquePrefix('p6')), { quizTtlSeconds: 600 });
  const seed = async (userId: string, cards: number) => {
    for (let i = 0; i < cards; i++) {
      await learners.recordMistake(
        userId,
        { kind: 'correction', front: `我是很好${i}`, back: `我很好${i}`, explanation: 'Không dùng 是 trước tính từ.' },
        `seed-${i}`,
      );
    }
  };
  const time = async (runs: number, fn: (i: number) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await fn(i);
      samples.push(performance.now() - started);
    }
    return summarize(samples);
  };
  const many = quick ? 1_000 : 5_000;
  const runs = quick ? 100 : 500;
  try {
    await Promise.all([seed('small', 10), seed('large', many)]);
    const contextSmall = await time(runs, () => learners.context('small'));
    const contextLarge = await time(runs, () => learners.context('large'));
    const progressLarge = await time(runs, () => learners.progress('large'));
    const quizzes = await learners.saveQuizzes(
      'large',
      'bench-turn',
      Array.from({ length: runs }, (_, i) => ({
        type: 'fill' as const,
        question: `第${i}题`,
        options: [],
        answer: '本',
        hint: '',
        explanation: '',
      })),
    );
    const grading = await time(runs, (i) =>
      answerQuiz(learners, 'large', { quizId: quizzes[i]?.id ?? '', answer: i % 2 ? '本' : '个', sulkingLevel: 0 }),
    );
    const ratio = round(contextLarge.p50 / contextSmall.p50);
    rows.push({
      id: 'P6',
      what: `a learner with ${many.toLocaleString('en')} review cards: what a turn reads (level, profile, due cards)`,
      result: `p50 ${contextLarge.p50} ms, p99 ${contextLarge.p99} ms; get_progress p50 ${progressLarge.p50} ms; grading an answer p50 ${grading.p50} ms`,
      baseline: `10 cards: p50 ${contextSmall.p50} ms`,
      target: '≤ 2× the 10-card learner (no read grows with the cards)',
      met: ratio <= 2,
      data: { contextSmall, contextLarge, progressLarge, grading, ratio },
    });
  } finally {
    redis.disconnect();
  }
}

function report() {
  const lines = [
    '| id | what | result | baseline (same run) | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.what} | ${r.result} | ${r.baseline} | ${r.target} | ${r.met === null ? '–' : r.met ? 'yes' : 'NO'} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  const file = join(repoRoot, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), quick, rows }, null, 2));
  writeFileSync(join(repoRoot, 'bench', 'results', 'latest.md'), `${lines.join('\n')}\n`);
  console.log(`results: ${file}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
