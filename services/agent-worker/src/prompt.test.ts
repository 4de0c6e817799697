import type { HistoryTurn } from '@xiaoyue/shared';
import { describe, expect, it } from 'vitest';
import { AGENT_REPLY_FIELD_ORDER } from './llm/reply-contract.js';
import { buildSystemPrompt, buildTutorPrompt } from './prompt.js';

const turn = (user: string, her: string): HistoryTurn => ({
  turn_id: `t-${user}`,
  timestamp: '2026-01-01T00:00:00.000Z',
  user_role: '师兄',
  user_message: user,
  chinese_content: her,
  pinyin: '',
  vietnamese_display: '',
  emotion: 'happy',
  action: 'none',
  quiz_list: [],
  sulking_level: 0,
});

describe('system prompt', () => {
  it("names the learner's role, her role and the sulking level", () => {
    const prompt = buildSystemPrompt({ userRole: '师姐', sulkingLevel: 2 });
    expect(prompt).toContain('「师姐」');
    expect(prompt).toContain('「小师妹」');
    expect(prompt).toContain('2/3');
    expect(prompt).toContain('生闷气');
  });

  it('behaves differently per sulking level', () => {
    const prompts = new Set(
      [0, 1, 2, 3].map((level) => buildSystemPrompt({ userRole: '师兄', sulkingLevel: level as 0 })),
    );
    expect(prompts.size).toBe(4);
  });

  it('asks for every field of the reply contract', () => {
    const prompt = buildSystemPrompt({ userRole: '师兄', sulkingLevel: 0 });
    for (const field of AGENT_REPLY_FIELD_ORDER) {
      expect(prompt).toContain(field);
    }
  });
});

describe('tutor prompt', () => {
  it('turns history into alternating user/model messages, oldest first, then the new message', () => {
    const prompt = buildTutorPrompt({
      history: [turn('你好', '师兄好！'), turn('谢谢', '不客气！')],
      userMessage: '再见',
      userRole: '师兄',
      sulkingLevel: 0,
    });
    expect(prompt.history.map((m) => m.role)).toEqual(['user', 'model', 'user', 'model']);
    expect(prompt.history[0]?.text).toBe('你好');
    expect(JSON.parse(prompt.history[3]?.text ?? '{}')).toMatchObject({
      chinese_content: '不客气！',
      emotion: 'happy',
    });
    expect(prompt.userMessage).toBe('再见');
  });
});

describe('what she knows of the learner', () => {
  const card = {
    id: 'c-abc',
    kind: 'correction' as const,
    front: '我是很好',
    back: '我很好',
    explanation: 'Không dùng 是 trước tính từ.',
    quiz: { type: 'fill' as const, question: '改正', options: [], answer: '我很好', hint: '', explanation: '' },
    fsrs: {
      due: '2026-01-01T00:00:00.000Z',
      stability: 0.2,
      difficulty: 6,
      elapsed_days: 0,
      scheduled_days: 0,
      learning_steps: 0,
      reps: 1,
      lapses: 0,
      state: 1,
    },
    mistakes: 2,
    created_at: '2026-01-01T00:00:00.000Z',
  };

  it('keeps her Chinese at the learner’s HSK level', () => {
    const at = (level: 1 | 6) =>
      buildSystemPrompt({
        userRole: '师兄',
        sulkingLevel: 0,
        learner: { level, profile: { interests: [], mistakes: [], turns_folded: 0 }, dueCards: [] },
      });
    expect(at(1)).toContain('HSK1');
    expect(at(6)).toContain('HSK6');
    expect(at(1)).not.toBe(at(6));
  });

  it('gives her the profile and asks her to bring due mistakes back with their card ids', () => {
    const prompt = buildSystemPrompt({
      userRole: '师兄',
      sulkingLevel: 0,
      learner: {
        level: 2,
        profile: {
          name: '阿明',
          interests: ['练剑'],
          mistakes: [{ wrong: '我是很好', right: '我很好', count: 2 }],
          turns_folded: 5,
        },
        dueCards: [card],
      },
    });
    expect(prompt).toContain('阿明');
    expect(prompt).toContain('练剑');
    expect(prompt).toContain('“我是很好” → “我很好”');
    expect(prompt).toContain('card_id "c-abc"');
  });

  it('says nothing of review when nothing is due', () => {
    const prompt = buildSystemPrompt({ userRole: '师兄', sulkingLevel: 0 });
    expect(prompt).not.toContain('card_id "');
  });
});
