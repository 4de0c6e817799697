import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prosodyFor } from '../presets.js';
import { mp3DurationMs } from './mp3.js';
import { createOfflineVoice, isInstalled, type OfflineVoiceChoice, systemVoiceInstalled } from './offline-voice.js';

const dir = mkdtempSync(join(tmpdir(), 'offline-voice-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A directory holding the given files, executable or not. */
function pathWith(files: Record<string, boolean>): string {
  const bin = mkdtempSync(join(dir, 'bin-'));
  for (const [name, executable] of Object.entries(files)) {
    writeFileSync(join(bin, name), '#!/bin/sh\n');
    chmodSync(join(bin, name), executable ? 0o755 : 0o644);
  }
  return bin;
}

const hello = { text: '你好，师兄！', voice: 'zh-CN-XiaoxiaoNeural', prosody: prosodyFor('happy') };

describe('finding the system voice', () => {
  it('needs both espeak-ng and lame, executable, somewhere on the search path', () => {
    const both = pathWith({ 'espeak-ng': true, lame: true });
    expect(systemVoiceInstalled(both)).toBe(true);
    expect(systemVoiceInstalled(pathWith({ 'espeak-ng': true }))).toBe(false);
    expect(systemVoiceInstalled(pathWith({ 'espeak-ng': true, lame: false }))).toBe(false);
    expect(systemVoiceInstalled([pathWith({ 'espeak-ng': true }), pathWith({ lame: true })].join(delimiter))).toBe(
      true,
    );
    expect(isInstalled('espeak-ng', '')).toBe(false);
  });
});

describe('OFFLINE_VOICE', () => {
  it('auto without espeak-ng on the path speaks with the WASM voice, without measuring', async () => {
    const choices: OfflineVoiceChoice[] = [];
    const voice = createOfflineVoice({
      mode: 'auto',
      timeoutMs: 10_000,
      threads: 1,
      searchPath: pathWith({ node: true }),
      onChoice: (choice) => choices.push(choice),
    });
    try {
      await voice.prepare();
      expect(await voice.engine()).toBe('wasm');
      expect(mp3DurationMs((await voice.synthesize(hello, AbortSignal.timeout(10_000))).audio)).toBeGreaterThan(800);
      expect(choices).toEqual([{ engine: 'wasm' }]);
    } finally {
      await voice.close();
    }
  });

  it('system without espeak-ng says it is not installed', async () => {
    const voice = createOfflineVoice({ mode: 'system', timeoutMs: 5_000, threads: 1 });
    try {
      expect(await voice.engine()).toBe('system');
      if (systemVoiceInstalled()) return; // the system voice's own tests cover speaking
      await expect(voice.synthesize(hello, AbortSignal.timeout(5_000))).rejects.toThrow(/not installed/);
    } finally {
      await voice.close();
    }
  });

  it.skipIf(!systemVoiceInstalled())(
    `auto with both engines measures each on a sentence and speaks with the faster${systemVoiceInstalled() ? '' : ' (SKIPPED: espeak-ng or lame is not on PATH)'}`,
    async () => {
      const choices: OfflineVoiceChoice[] = [];
      const voice = createOfflineVoice({
        mode: 'auto',
        timeoutMs: 10_000,
        threads: 1,
        onChoice: (c) => choices.push(c),
      });
      try {
        await voice.prepare();
        const [choice] = choices;
        expect(choice?.systemMs).toBeGreaterThan(0);
        expect(choice?.wasmMs).toBeGreaterThan(0);
        const faster = (choice?.systemMs ?? 0) <= (choice?.wasmMs ?? 0) ? 'system' : 'wasm';
        expect(choice?.engine).toBe(faster);
        expect(await voice.engine()).toBe(faster);
        expect(mp3DurationMs((await voice.synthesize(hello, AbortSignal.timeout(10_000))).audio)).toBeGreaterThan(800);
      } finally {
        await voice.close();
      }
    },
  );
});
