// `pnpm check tts`: can the TTS worker speak with this configuration? Speaks one line.
import { loadTtsEnv, type TtsEnv } from './env.js';
import { prosodyFor } from './presets.js';
import { type SpeechSynthesizer, speechProviders } from './speech/index.js';

async function speaks(speech: SpeechSynthesizer, env: TtsEnv): Promise<boolean> {
  try {
    await speech.prepare?.(); // as the service does: the offline voice is chosen and warm first
    const started = Date.now();
    const result = await speech.synthesize(
      { text: '你好，师兄！', voice: env.TTS_VOICE, prosody: prosodyFor('happy') },
      AbortSignal.timeout(env.TTS_TIMEOUT_MS + 1_000),
    );
    console.log(`PASS tts: ${speech.name} spoke ${result.audio.length} bytes of mp3 in ${Date.now() - started} ms`);
    return true;
  } catch (error) {
    console.log(`FAIL tts: ${speech.name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

/** Checks each configured voice on its own, so a working fallback cannot hide a broken primary. */
async function checkTts(): Promise<boolean> {
  const env = loadTtsEnv();
  const { primary, fallback } = speechProviders(env);
  const primaryOk = await speaks(primary, env);
  if (!fallback) return primaryOk;
  const fallbackOk = await speaks(fallback, env);
  if (!primaryOk && fallbackOk) console.log(`  learners will hear the ${fallback.name} fallback voice`);
  return primaryOk || fallbackOk;
}

checkTts().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.log(`FAIL tts: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
