import { eventLoopDuring, rejectionOf } from '@xiaoyue/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { prosodyFor } from '../presets.js';
import { WasmEspeakSpeechSynthesizer } from './espeak-wasm.js';
import { mp3DurationMs } from './mp3.js';
import { type Prosody, SpeechError } from './types.js';

// Runs the built thread (dist/speech/wasm-voice-thread.js): `pnpm build` first, as `pnpm test` does.
const voice = new WasmEspeakSpeechSynthesizer({ timeoutMs: 20_000, threads: 2 });
afterAll(() => voice.close());

const neutral = prosodyFor('neutral');
const speak = (text: string, prosody: Prosody = neutral, signal = new AbortController().signal) =>
  voice.synthesize({ text, voice: 'zh-CN-XiaoxiaoNeural', prosody }, signal);
const failure = (promise: Promise<unknown>) => rejectionOf(promise, SpeechError);

describe('WASM espeak-ng voice (npm only, worker threads)', () => {
  it('speaks Chinese as a real mp3 as long as the speech, with estimated word timings', async () => {
    const result = await speak('你好，师兄！');
    expect(result.format).toBe('mp3');
    expect(result.audio[0]).toBe(0xff); // frame sync
    const durationMs = mp3DurationMs(result.audio);
    expect(durationMs).toBeGreaterThan(800);
    expect(durationMs).toBeLessThan(4_000);
    expect(result.wordBoundaries.map((w) => w.text).join('')).toBe('你好师兄');
    const last = result.wordBoundaries.at(-1);
    const spokenMs = (last?.offsetMs ?? 0) + (last?.durationMs ?? 0);
    expect(durationMs - spokenMs).toBeGreaterThan(0);
    expect(durationMs - spokenMs).toBeLessThan(600);
  });

  it('speaks a longer sentence for longer', async () => {
    const short = mp3DurationMs((await speak('你好')).audio);
    const long = mp3DurationMs((await speak('今天我们一起去练剑吧，师兄加油！')).audio);
    expect(long).toBeGreaterThan(short * 2);
    expect(long).toBeLessThan(10_000);
  });

  it("follows her emotion's voice preset: excited is faster than shy, volume changes the audio", async () => {
    const line = '今天我们一起去练剑吧，师兄加油！';
    const [excited, shy] = await Promise.all([speak(line, prosodyFor('excited')), speak(line, prosodyFor('shy'))]);
    expect(mp3DurationMs(excited.audio)).toBeLessThan(mp3DurationMs(shy.audio) * 0.9);
    const quiet = await speak('师兄好', { ...neutral, volume: '-50%' });
    const loud = await speak('师兄好', { ...neutral, volume: '+50%' });
    expect(quiet.audio.equals(loud.audio)).toBe(false);
  });

  it.each(['-rf 你好', '--help 师兄', `师兄说 "<剑> & '刀'" 吗？`, '第一行\n第二行\r\n第三行'])(
    'speaks text that looks like options or markup: %j',
    async (text) => {
      expect(mp3DurationMs((await speak(text)).audio)).toBeGreaterThan(500);
    },
  );

  it('reports text with nothing to say as empty', async () => {
    expect((await failure(speak(''))).kind).toBe('empty');
  });

  it('does not block the event loop while it speaks', async () => {
    const line = '师兄，今天我们一起去练剑吧，练完了再去喝茶，好不好？'.repeat(3);
    const { result, tookMs, mainThreadCpuMs, lagMs } = await eventLoopDuring(() => speak(line));
    expect(mp3DurationMs(result.audio)).toBeGreaterThan(5_000);
    // On this thread the synthesis would cost the loop all of its CPU and delay the timer by all of
    // its time. (The timer is also late when the OS runs other processes: hence the generous bound.)
    if (mainThreadCpuMs !== undefined) expect(mainThreadCpuMs).toBeLessThan(Math.max(50, tookMs * 0.1));
    expect(lagMs).toBeLessThan(tookMs * 0.8);
  });

  it('speaks many sentences at once with two threads, each with its own audio', async () => {
    const lines = ['你好', '师兄好', '我们去练剑吧', '你吃饭了吗', '今天天气很好', '再见'];
    const results = await Promise.all(lines.map((line) => speak(line)));
    for (const result of results) expect(mp3DurationMs(result.audio)).toBeGreaterThan(300);
    expect(new Set(results.map((r) => r.audio.toString('base64'))).size).toBe(lines.length);
  });

  it('stops at once when the caller aborts, and speaks again afterwards', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await failure(speak('你好'.repeat(2_000), neutral, controller.signal));
    expect(error.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(500);
    expect(mp3DurationMs((await speak('你好')).audio)).toBeGreaterThan(300);
  });

  it('does not start for a caller that already gave up', async () => {
    expect((await failure(speak('你好', neutral, AbortSignal.abort()))).kind).toBe('aborted');
  });

  it('times out a synthesis that takes too long', async () => {
    const impatient = new WasmEspeakSpeechSynthesizer({ timeoutMs: 100, threads: 1 });
    try {
      const started = Date.now();
      const error = await failure(
        impatient.synthesize({ text: '你好'.repeat(2_000), voice: '', prosody: neutral }, new AbortController().signal),
      );
      expect(error.kind).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(600);
    } finally {
      await impatient.close();
    }
  });

  it('refuses to speak once closed, and closing stops what it was saying', async () => {
    const closing = new WasmEspeakSpeechSynthesizer({ timeoutMs: 10_000, threads: 1 });
    const running = failure(
      closing.synthesize({ text: '你好'.repeat(2_000), voice: '', prosody: neutral }, AbortSignal.timeout(10_000)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await closing.close();
    expect((await running).kind).toBe('rejected');
    expect(
      (await failure(closing.synthesize({ text: '你好', voice: '', prosody: neutral }, AbortSignal.timeout(1_000))))
        .message,
    ).toMatch(/closed/);
  });
});
