import { z } from 'zod';

/** One voice she can speak with, as `voices` lists it. */
export const VoiceInfo = z.object({
  /** What `set_voice` takes: Edge's short name (`zh-CN-XiaoxiaoNeural`), or `espeak:cmn` offline. */
  name: z.string(),
  /** BCP 47 locale: `zh-CN`, `zh-TW`, `zh-HK` (`cmn` for the offline espeak-ng Mandarin). */
  locale: z.string(),
  gender: z.enum(['Female', 'Male']),
  /** A human name for a picker. */
  label: z.string().optional(),
});
export type VoiceInfo = z.infer<typeof VoiceInfo>;

/**
 * Edge read-aloud's Chinese neural voices: a built-in list (the names Edge's voice list gives,
 * as of msedge-tts 2.0.7, which has no list of its own). The TTS worker does not fetch Edge's
 * live list; a voice Edge drops would fail its synthesis and fall back to espeak-ng.
 */
export const EDGE_CHINESE_VOICES: readonly VoiceInfo[] = [
  { name: 'zh-CN-XiaoxiaoNeural', locale: 'zh-CN', gender: 'Female', label: 'Xiaoxiao 晓晓' },
  { name: 'zh-CN-XiaoyiNeural', locale: 'zh-CN', gender: 'Female', label: 'Xiaoyi 晓伊' },
  { name: 'zh-CN-YunjianNeural', locale: 'zh-CN', gender: 'Male', label: 'Yunjian 云健' },
  { name: 'zh-CN-YunxiNeural', locale: 'zh-CN', gender: 'Male', label: 'Yunxi 云希' },
  { name: 'zh-CN-YunxiaNeural', locale: 'zh-CN', gender: 'Male', label: 'Yunxia 云夏' },
  { name: 'zh-CN-YunyangNeural', locale: 'zh-CN', gender: 'Male', label: 'Yunyang 云扬' },
  { name: 'zh-CN-liaoning-XiaobeiNeural', locale: 'zh-CN', gender: 'Female', label: 'Xiaobei 晓北 (辽宁)' },
  { name: 'zh-CN-shaanxi-XiaoniNeural', locale: 'zh-CN', gender: 'Female', label: 'Xiaoni 晓妮 (陕西)' },
  { name: 'zh-TW-HsiaoChenNeural', locale: 'zh-TW', gender: 'Female', label: 'HsiaoChen 曉臻' },
  { name: 'zh-TW-HsiaoYuNeural', locale: 'zh-TW', gender: 'Female', label: 'HsiaoYu 曉雨' },
  { name: 'zh-TW-YunJheNeural', locale: 'zh-TW', gender: 'Male', label: 'YunJhe 雲哲' },
  { name: 'zh-HK-HiuGaaiNeural', locale: 'zh-HK', gender: 'Female', label: 'HiuGaai 曉佳' },
  { name: 'zh-HK-HiuMaanNeural', locale: 'zh-HK', gender: 'Female', label: 'HiuMaan 曉曼' },
  { name: 'zh-HK-WanLungNeural', locale: 'zh-HK', gender: 'Male', label: 'WanLung 雲龍' },
];

/** Her voice when the learner chose none and the TTS worker did not say (TTS_VOICE's default). */
export const DEFAULT_VOICE = 'zh-CN-XiaoxiaoNeural';

/** The offline voice (TTS_PROVIDER=espeak): espeak-ng's Mandarin, whatever voice a job names. */
export const ESPEAK_VOICE: VoiceInfo = {
  name: 'espeak:cmn',
  locale: 'cmn',
  gender: 'Female',
  label: 'espeak-ng Mandarin (offline)',
};

/** A voice `set_voice` accepts: one of Edge's Chinese voices. */
export function isEdgeChineseVoice(name: string): boolean {
  return EDGE_CHINESE_VOICES.some((voice) => voice.name === name);
}

/** What the TTS pool speaks with, written by each TTS worker at start (`{<prefix>:tts-voice}`). */
export const TtsVoiceInfo = z.object({
  provider: z.enum(['edge', 'espeak']),
  /** TTS_VOICE: her voice for learners who chose none. */
  voice: z.string(),
});
export type TtsVoiceInfo = z.infer<typeof TtsVoiceInfo>;

/** Reads the TTS pool's record (JSON), or undefined if absent or unreadable. */
export function parseTtsVoiceInfo(raw: string | null | undefined): TtsVoiceInfo | undefined {
  if (!raw) return undefined;
  try {
    return TtsVoiceInfo.safeParse(JSON.parse(raw)).data;
  } catch {
    return undefined;
  }
}
