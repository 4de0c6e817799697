// Reading an mp3's frame headers: how long it plays, and proof that it is one.
const LAYER3_KBPS = {
  mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

/**
 * Duration of a Layer III mp3, found by walking every frame header to the end of the file (no
 * ffprobe needed): throws unless the bytes are nothing but well-formed frames, so it also proves
 * that the audio is a real mp3.
 */
export function mp3DurationMs(mp3: Buffer): number {
  let at = 0;
  if (mp3.toString('ascii', 0, 3) === 'ID3') {
    at = 10 + (((mp3[6] ?? 0) << 21) | ((mp3[7] ?? 0) << 14) | ((mp3[8] ?? 0) << 7) | (mp3[9] ?? 0));
  }
  let seconds = 0;
  while (at < mp3.length) {
    const [sync = 0, info = 0, rates = 0] = mp3.subarray(at, at + 3);
    if (sync !== 0xff || (info & 0xe0) !== 0xe0 || ((info >> 1) & 3) !== 1)
      throw new Error(`no Layer III frame at ${at}`);
    const version = (info >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    const sampleRate = ([44_100, 48_000, 32_000][(rates >> 2) & 3] ?? 0) / (version === 3 ? 1 : version === 2 ? 2 : 4);
    const kbps = (version === 3 ? LAYER3_KBPS.mpeg1 : LAYER3_KBPS.mpeg2)[rates >> 4] ?? 0;
    if (!sampleRate || !kbps) throw new Error(`bad frame header at ${at}`);
    const samplesPerFrame = version === 3 ? 1152 : 576;
    at += Math.floor((samplesPerFrame / 8) * ((kbps * 1000) / sampleRate)) + ((rates >> 1) & 1);
    seconds += samplesPerFrame / sampleRate;
  }
  return seconds * 1000;
}
