import { readdirSync, readFileSync } from 'node:fs';
import { rejectionOf } from '@xiaoyue/test-support';
import { describe, expect, it } from 'vitest';
import { prosodyFor } from '../presets.js';
import { type EspeakOptions, EspeakSpeechSynthesizer, espeakFlags, estimateBoundaries, pcmFromWav } from './espeak.js';
import { mp3DurationMs } from './mp3.js';
import { systemVoiceInstalled } from './offline-voice.js';
import { type Prosody, SpeechError } from './types.js';

const neutral = prosodyFor('neutral');
const speak = (text: string, prosody: Prosody = neutral, options: Partial<EspeakOptions> = {}, signal?: AbortSignal) =>
  new EspeakSpeechSynthesizer({ timeoutMs: 5_000, ...options }).synthesize(
    { text, voice: 'zh-CN-XiaoxiaoNeural', prosody },
    signal ?? new AbortController().signal,
  );

const failure = (promise: Promise<unknown>) => rejectionOf(promise, SpeechError);

/** espeak-ng and lame processes this test process started that are still around (zombies included). */
function leftoverChildren(): string[] {
  const children: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its ')'.
    const stat = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return ''; // exited while we looked
      }
    })();
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid && /espeak|lame/.test(name)) children.push(name);
  }
  return children;
}

// The system voice is optional (npm's WASM voice is the one every machine has): without the
// Debian packages these tests are skipped, and their title says why.
const systemVoice = systemVoiceInstalled();
if (!systemVoice)
  console.warn('espeak-ng or lame is not on PATH: the system voice tests are skipped (the WASM voice is tested)');
describe.skipIf(!systemVoice)(
  `system espeak-ng + lame${systemVoice ? '' : ' (SKIPPED: espeak-ng or lame is not on PATH)'}`,
  () => {
    it('speaks Chinese as a well-formed mp3 as long as the speech, with estimated word timings', async () => {
      const result = await speak('你好，师兄！');
      expect(result.format).toBe('mp3');
      expect(result.audio.toString('ascii', 0, 3) === 'ID3' || result.audio[0] === 0xff).toBe(true);
      const durationMs = mp3DurationMs(result.audio);
      expect(durationMs).toBeGreaterThan(800);
      expect(durationMs).toBeLessThan(4_000);
      expect(result.wordBoundaries.map((w) => w.text).join('')).toBe('你好师兄');
      // The estimate spans the speech: lame only adds its encoder delay and padding.
      const last = result.wordBoundaries.at(-1);
      expect(durationMs - ((last?.offsetMs ?? 0) + (last?.durationMs ?? 0))).toBeGreaterThan(0);
      expect(durationMs - ((last?.offsetMs ?? 0) + (last?.durationMs ?? 0))).toBeLessThan(600);
    });

    it("follows her emotion's voice preset: excited is faster than shy", async () => {
      const line = '今天我们一起去练剑吧，师兄加油！';
      const excited = await speak(line, prosodyFor('excited'));
      const shy = await speak(line, prosodyFor('shy'));
      expect(mp3DurationMs(excited.audio)).toBeLessThan(mp3DurationMs(shy.audio) * 0.9);
    });

    it('changes the audio with the volume alone', async () => {
      const quiet = await speak('师兄好', { ...neutral, volume: '-50%' });
      const loud = await speak('师兄好', { ...neutral, volume: '+50%' });
      expect(quiet.audio.equals(loud.audio)).toBe(false);
      expect(mp3DurationMs(quiet.audio)).toBeCloseTo(mp3DurationMs(loud.audio), -1);
    });

    it.each([
      '-rf 你好',
      '--help 师兄',
      `师兄说 "<剑> & '刀'" 吗？`,
      '第一行\n第二行\r\n第三行',
      '$(echo hi); `id` | 你好',
    ])('speaks text that looks like options, markup or shell: %j', async (text) => {
      expect(mp3DurationMs((await speak(text)).audio)).toBeGreaterThan(500);
    });

    it('reports text with nothing to say as empty', async () => {
      expect((await failure(speak(''))).kind).toBe('empty');
    });

    it('kills espeak-ng at once when the caller aborts, leaving no process behind', async () => {
      const controller = new AbortController();
      const started = Date.now();
      let runningAtAbort: string[] = [];
      setTimeout(() => {
        runningAtAbort = leftoverChildren();
        controller.abort();
      }, 50);
      const error = await failure(speak('你好'.repeat(3_000), neutral, {}, controller.signal));
      expect(error.kind).toBe('aborted');
      expect(runningAtAbort).toEqual(['espeak-ng']);
      expect(Date.now() - started).toBeLessThan(400);
      expect(leftoverChildren()).toEqual([]);
    });

    it('does not start espeak-ng for a caller that already gave up', async () => {
      expect((await failure(speak('你好', neutral, {}, AbortSignal.abort()))).kind).toBe('aborted');
    });

    it('times out a synthesis that takes too long, leaving no process behind', async () => {
      const started = Date.now();
      const error = await failure(speak('你好'.repeat(3_000), neutral, { timeoutMs: 80 }));
      expect(error.kind).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(500);
      expect(leftoverChildren()).toEqual([]);
    });

    it.each([
      ['espeak-ng', { espeakPath: '/nonexistent/espeak-ng' }],
      ['lame', { lamePath: '/nonexistent/lame' }],
    ])('says clearly when %s is not installed', async (_, options) => {
      const error = await failure(speak('你好', neutral, options));
      expect(error.kind).toBe('rejected');
      expect(error.message).toMatch(/not installed \(apt-get install espeak-ng lame\)/);
    });
  },
);

describe('espeak helpers', () => {
  it('maps prosody onto espeak flags around its defaults', () => {
    expect(espeakFlags({ rate: '+10%', volume: '-10%', pitch: '+0Hz' })).toEqual(['-s', '176', '-a', '90', '-p', '50']);
    expect(espeakFlags({ rate: '-90%', volume: '+500%', pitch: '+20Hz' })).toEqual([
      '-s',
      '80',
      '-a',
      '200',
      '-p',
      '60',
    ]);
    expect(espeakFlags({ rate: 'fast', volume: 'loud', pitch: '-10%' })).toEqual([
      '-s',
      '160',
      '-a',
      '100',
      '-p',
      '45',
    ]);
  });

  it("clamps espeak's streamed WAV header (data size 0x7ffff000) to the bytes that arrived", () => {
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(0x7ffff024, 4);
    header.write('WAVEfmt ', 8, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20); // PCM
    header.writeUInt16LE(1, 22); // mono
    header.writeUInt32LE(22_050, 24);
    header.writeUInt32LE(44_100, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(0x7ffff000, 40);
    const pcm = pcmFromWav(Buffer.concat([header, Buffer.alloc(1001, 7)]));
    expect(pcm).toEqual({ samples: Buffer.alloc(1000, 7), sampleRate: 22_050 });
  });

  it('estimates word timings from syllables, pausing at punctuation', () => {
    // Weights: 你好 2, ， 0.5, 师兄 2 (however ICU cuts it), ！ 0.5 → 200 ms per syllable.
    const boundaries = estimateBoundaries('你好，师兄！', 1_000);
    expect(boundaries[0]).toEqual({ text: '你好', offsetMs: 0, durationMs: 400 });
    expect(
      boundaries
        .slice(1)
        .map((w) => w.text)
        .join(''),
    ).toBe('师兄');
    expect(boundaries[1]?.offsetMs).toBe(500);
    expect(boundaries.slice(1).reduce((ms, w) => ms + w.durationMs, 0)).toBe(400);
    expect(estimateBoundaries('！？', 1_000)).toEqual([]);
  });
});
