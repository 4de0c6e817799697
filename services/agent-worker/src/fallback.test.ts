import { describe, expect, it } from 'vitest';
import { fallbackReply } from './fallback.js';
import { AgentReply } from './llm/reply-contract.js';

describe('fallback reply', () => {
  it('is a valid, in-character reply with Chinese, pinyin and Vietnamese', () => {
    for (const id of ['turn-aaaaaaaa', 'turn-bbbbbbbb', 'turn-cccccccc']) {
      const reply = AgentReply.parse(fallbackReply(id, 0));
      expect(reply.chinese_content).toMatch(/[\u4e00-\u9fff]/);
      expect(reply.pinyin).toMatch(/[āáǎàēéěèīíǐìōóǒòūúǔù]/);
      expect(reply.vietnamese_display.length).toBeGreaterThan(5);
    }
  });

  it('is the same line for a retried turn', () => {
    expect(fallbackReply('turn-12345678', 0)).toEqual(fallbackReply('turn-12345678', 0));
  });

  it('sulks when she is sulking', () => {
    expect(fallbackReply('turn-12345678', 2).emotion).toBe('sulking');
  });
});
