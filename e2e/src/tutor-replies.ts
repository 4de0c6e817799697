/** A reply as the fake Gemini writes it for her: a quiz turn by default, fields overridable. */
export function tutorReply(extra: Record<string, unknown> = {}) {
  return {
    emotion: 'happy',
    chinese_content: '师兄，小测验来了！',
    pinyin: 'shi1xiong1 xiao3ce4yan4 lai2le',
    vietnamese_display: 'Sư huynh, kiểm tra nhỏ đây!',
    action: 'quiz',
    quiz_list: [],
    user_tone: 'polite',
    thought: '',
    ...extra,
  };
}

/** One quiz of each type: a choice, a fill-in and a translation. */
export const QUIZZES = [
  {
    type: 'choice',
    question: '“银行”是什么意思？',
    options: ['trường học', 'ngân hàng', 'bệnh viện'],
    answer: 'ngân hàng',
    hint: '',
    explanation: '“银行” (yín háng) nghĩa là ngân hàng.',
  },
  {
    type: 'fill',
    question: '我有一___书。',
    options: [],
    answer: '本',
    hint: 'lượng từ của sách',
    explanation: 'Sách dùng lượng từ 本.',
  },
  {
    type: 'translate',
    question: 'Dịch sang tiếng Việt: 我很高兴。',
    options: [],
    answer: 'Tôi rất vui.',
    hint: '',
    explanation: '高兴 = vui.',
  },
];
