/**
 * Her whole reply to a turn, in the `reply` event's shape (no speech unless given): any complete
 * turn end will do for tests of delivery and the outbox.
 */
export function sampleReply(turnId = 'turn', audio: string | null = null) {
  return {
    turn_id: turnId,
    thought: '',
    chinese_content: '好的。',
    vietnamese_display: 'Được.',
    pinyin: 'hǎo de',
    emotion: 'happy' as const,
    action: 'none' as const,
    quiz_list: [],
    audio_base64: audio,
    sulking_level: 0,
    timestamp: '2026-12-02T00:00:00.000Z',
  };
}
