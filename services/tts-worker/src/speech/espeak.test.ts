import { describe, expect, it } from 'vitest';
import { EspeakSpeechSynthesizer, espeakFlags, estimateBoundaries } from './espeak.js';
import { SpeechError } from './types.js';

const neutral = { rate: '+0%', volume: '+0%', pitch: '+0Hz' };
const speak = (text: string, prosody = neutral, options = {}) =>
  new EspeakSpeechSynthesizer({ timeoutMs: 5_000, ...options }).synthesize(
    { text, voice: 'ignored', prosody },
    new AbortController().signal,
  );

/** True when the bytes start like an mp3 file: an ID3 tag or an MPEG audio frame sync. */
const looksLikeMp3 = (audio: Buffer) =>
  audio.toString('ascii', 0, 3) === 'ID3' || (audio[0] === 0xff && ((audio[1] ?? 0) & 0xe0) === 0xe0);

describe('espeak-ng offline voice', () => {
  it('speaks Chinese as mp3, in memory', async () => {
    const result = await speak('你好，师兄！');
    expect(result.format).toBe('mp3');
    expect(looksLikeMp3(result.audio)).toBe(true);
    expect(result.audio.length).toBeGreaterThan(2_000);
    expect(result.wordBoundaries.map((w) => w.text)).toEqual(['你好', '师兄']);
  });

  it('follows the emotion presets: a faster rate gives shorter audio', async () => {
    const slow = await speak('今天我们一起练剑吧', { ...neutral, rate: '-30%' });
    const fast = await speak('今天我们一起练剑吧', { ...neutral, rate: '+30%' });
    expect(fast.audio.length).toBeLessThan(slow.audio.length * 0.85);
  });

  it('speaks text that looks like options or markup', async () => {
    for (const text of ['-rf 你好', '"<剑> & 刀"', '第一行\n第二行']) {
      expect(looksLikeMp3((await speak(text)).audio)).toBe(true);
    }
  });

  it('says clearly when espeak-ng is not installed', async () => {
    const error = await speak('你好', neutral, { espeakPath: '/nonexistent/espeak-ng' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpeechError);
    expect((error as SpeechError).kind).toBe('rejected');
    expect((error as Error).message).toMatch(/apt-get install espeak-ng/);
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await new EspeakSpeechSynthesizer({ timeoutMs: 5_000 })
      .synthesize({ text: '你好'.repeat(200), voice: '', prosody: neutral }, controller.signal)
      .catch((e: unknown) => e);
    expect((error as SpeechError).kind).toBe('aborted');
  });

  it('maps prosody onto espeak flags', () => {
    expect(espeakFlags({ rate: '+10%', volume: '-10%', pitch: '+0Hz' })).toEqual(['-s', '176', '-a', '90', '-p', '50']);
    expect(espeakFlags({ rate: 'nonsense', volume: '+500%', pitch: '+20Hz' })).toEqual([
      '-s',
      '160',
      '-a',
      '200',
      '-p',
      '60',
    ]);
  });

  it('spreads estimated word timings over the audio', () => {
    expect(estimateBoundaries('你好，师兄！', 1_000)).toEqual([
      { text: '你好', offsetMs: 0, durationMs: 500 },
      { text: '师兄', offsetMs: 500, durationMs: 500 },
    ]);
  });
});
