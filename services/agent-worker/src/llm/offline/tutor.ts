import type { Emotion, LearnerContext, ReplyAction, ReviewCard, SulkingLevel, UserTone } from '@xiaoyue/shared';
import { clampSulkingLevel } from '@xiaoyue/shared';
import { toPinyin } from '../../pinyin-tokens.js';
import type { AgentReply } from '../reply-contract.js';
import type { TutorLlm, TutorPrompt } from '../types.js';
import { findCorrection } from './corrections.js';
import { fallbackLine, isLong, longSentenceLine } from './fallback.js';
import { lastLineOf, matchIntent, type Said } from './intents.js';
import { type Address, addressFor, PHRASEBOOK } from './phrasebook.js';
import { buildQuiz, QUIZ_REQUEST } from './quiz.js';
import { judgeTone } from './tone.js';

interface Line {
  zh: string;
  vi: string;
  emotion: Emotion;
  action?: ReplyAction;
  thought: string;
  quiz?: AgentReply['quiz_list'];
  correction?: AgentReply['correction'];
}

/** "What is my name?" in Chinese or Vietnamese. */
const ASKS_OWN_NAME = /我叫什么|我的名字是什么|记得我(吗|是谁)|tên (tôi|em|huynh) là gì|nhớ (tên )?(tôi|huynh) không/iu;

/** Her last line in the conversation (the history keeps model turns as the reply's JSON). */
function lastLine(history: TutorPrompt['history']): Said | undefined {
  const turn = history.findLast((message) => message.role === 'model');
  if (!turn) return undefined;
  try {
    const reply = JSON.parse(turn.text) as { chinese_content?: unknown; vietnamese_display?: unknown };
    if (typeof reply.chinese_content !== 'string' || reply.chinese_content.trim() === '') return undefined;
    const vi = typeof reply.vietnamese_display === 'string' ? reply.vietnamese_display : '';
    return lastLineOf({ zh: reply.chinese_content.trim(), vi: vi.trim() });
  } catch {
    return undefined;
  }
}

/** A stable number from a string, so that the same conversation gets the same reply. */
function hash(text: string): number {
  let h = 2166136261;
  for (const char of text) h = Math.imul(h ^ (char.codePointAt(0) ?? 0), 16777619) >>> 0;
  return h;
}

/** "sư huynh ơi! sư huynh…" → "Sư huynh ơi! Sư huynh…": forms of address start many lines. */
function capitalizeSentences(text: string): string {
  return text.replace(
    /(^|[.!?…]\s+|[“"]\s*)(\p{Ll})/gu,
    (_m, before: string, letter: string) => before + letter.toUpperCase(),
  );
}

/** What she says when the learner is rude; harsher the more she already sulks. */
function sulkAt(level: SulkingLevel, to: Address): Line {
  const lines: Omit<Line, 'thought'>[] = [
    {
      zh: `${to.zh}怎么这样说话？我不高兴了。`,
      vi: `Sao ${to.vi} lại nói thế? Muội không vui rồi.`,
      emotion: 'sulking',
    },
    { zh: `哼！${to.zh}太过分了！`, vi: `Hừ! ${to.vi} quá đáng lắm!`, emotion: 'sulking' },
    { zh: '我不想理你了。', vi: 'Muội không thèm để ý huynh nữa.', emotion: 'angry' },
    { zh: '哼！走开！', vi: 'Hừ! Đi chỗ khác đi!', emotion: 'angry' },
  ];
  const line = lines[level] ?? (lines[lines.length - 1] as Omit<Line, 'thought'>);
  return { ...line, thought: 'the learner was rude' };
}

/**
 * The offline practice tutor: no LLM, deterministic, in character. It answers from a phrasebook
 * of beginner exchanges, corrects common mistakes, runs quizzes, and reacts to the learner's tone
 * (the server moves the sulking level from `user_tone`). Pinyin comes from the dictionary.
 */
export class OfflineTutorLlm implements TutorLlm {
  readonly name = 'offline';

  /** Offline there is nothing to wait for: the whole reply is one fragment. */
  async *streamReply(prompt: TutorPrompt): AsyncIterable<string> {
    yield JSON.stringify(await this.generateReply(prompt));
  }

  async generateReply(prompt: TutorPrompt): Promise<AgentReply> {
    const text = prompt.userMessage.trim();
    const to = addressFor(prompt.persona?.userRole ?? '师兄');
    const sulking = clampSulkingLevel(prompt.persona?.sulkingLevel ?? 0);
    const turn = Math.floor(prompt.history.length / 2);
    const seed = hash(`${text}#${turn}`);
    const tone = judgeTone(text);
    const learner = prompt.persona?.learner;
    const last = lastLine(prompt.history);
    const line = this.respond(text, to, sulking, tone, turn, seed, learner, last);
    return {
      thought: line.thought,
      emotion: line.emotion,
      chinese_content: line.zh,
      pinyin: toPinyin(line.zh),
      vietnamese_display: capitalizeSentences(line.vi),
      action: line.action ?? 'none',
      quiz_list: line.quiz ?? [],
      user_tone: tone,
      correction: line.correction ?? null,
      learner_facts: null,
    };
  }

  private respond(
    text: string,
    to: Address,
    sulking: SulkingLevel,
    tone: UserTone,
    turn: number,
    seed: number,
    learner: LearnerContext | undefined,
    last: Said | undefined,
  ): Line {
    if (tone === 'rude') return sulkAt(clampSulkingLevel(sulking + 1), to);
    if (tone === 'apologetic') {
      return sulking > 0
        ? {
            zh: '好吧，我原谅你了。下次不许这样！',
            vi: 'Thôi được, muội tha cho huynh. Lần sau không được thế nữa!',
            emotion: 'shy',
            thought: 'apology accepted',
          }
        : {
            zh: `没关系，${to.zh}，我没有生气呀。`,
            vi: `Không sao đâu ${to.vi}, muội có giận đâu.`,
            emotion: 'happy',
            thought: 'nothing to forgive',
          };
    }
    if (sulking >= 2 && tone !== 'affectionate') {
      return {
        zh: '哼，知道了。',
        vi: 'Hừ, biết rồi.',
        emotion: 'sulking',
        thought: 'still sulking; waiting for an apology',
      };
    }
    if (tone === 'affectionate' && sulking > 0) {
      return {
        zh: `${to.zh}嘴真甜……好吧，我不生气了。`,
        vi: `${to.vi} khéo nói thật… thôi được, muội hết giận rồi.`,
        emotion: 'shy',
        thought: 'softened by affection',
      };
    }

    const correction = findCorrection(text);
    if (correction) {
      return {
        zh: `${to.zh}，应该说：“${correction.corrected}”`,
        vi: `${to.vi}, phải nói là: “${correction.corrected}”. ${correction.explanation}`,
        emotion: seed % 2 === 0 ? 'teasing' : 'strict',
        action: 'correction',
        thought: `correction: ${correction.id}`,
        correction: { wrong: text, right: correction.corrected, explanation: correction.explanation },
      };
    }
    const due = learner?.dueCards ?? [];
    const intent = matchIntent(text);
    if (QUIZ_REQUEST.test(text) && intent?.intent.action !== 'quiz') {
      return this.quiz(to, seed, 'the learner asked for a quiz', due);
    }
    const name = learner?.profile.name;
    if (name && ASKS_OWN_NAME.test(text)) {
      return {
        zh: `${to.zh}叫${name}呀，我当然记得！`,
        vi: `${to.vi} tên là ${name} mà, muội đương nhiên nhớ!`,
        emotion: 'happy',
        thought: 'remembered the learner from the profile',
      };
    }

    // The common beginner intents, matched on the normalized message; then the phrasebook's
    // keywords (sect, training, small talk), which a long message is not matched on: a keyword in
    // a long sentence is too often not what it is about.
    let line: Line | undefined;
    if (intent) {
      const { intent: found, x, said } = intent;
      const reply = found.reply({ to, x, said, last, seed });
      line = {
        zh: reply.zh,
        vi: reply.vi,
        emotion: reply.emotion ?? found.emotion,
        action: reply.action ?? found.action,
        quiz: reply.quiz,
        thought: `intent: ${found.id}`,
      };
    } else if (isLong(text)) {
      return { ...longSentenceLine(to, seed), emotion: 'concerned', action: 'encourage', thought: 'a long message' };
    } else {
      const entry = PHRASEBOOK.find((e) => e.triggers.test(text));
      if (entry) {
        line = { ...entry.reply(to), emotion: entry.emotion, action: entry.action, thought: `phrasebook: ${entry.id}` };
      }
    }
    if (line) {
      if (sulking === 1)
        return {
          ...line,
          zh: `${line.zh}……不过我还有点生气。`,
          vi: `${line.vi}… Nhưng muội vẫn còn hơi giận.`,
          emotion: 'sulking',
        };
      return line;
    }
    // Every third unrecognised message turns into practice instead of a shrug.
    if (turn % 3 === 2 || due.length > 0) return this.quiz(to, seed, 'nothing matched; time to practise', due);
    return {
      ...fallbackLine(to, seed),
      emotion: 'concerned',
      action: 'encourage',
      thought: 'nothing matched; offered two things to practise',
    };
  }

  /** A quiz: due review cards first (her mistakes come back), then phrasebook words. */
  private quiz(to: Address, seed: number, thought: string, due: ReviewCard[] = []): Line {
    if (due.length > 0) {
      return {
        zh: `${to.zh}，上次说错的地方还记得吗？考考你！`,
        vi: `${to.vi}, chỗ lần trước nói sai còn nhớ không? Muội kiểm tra nhé!`,
        emotion: 'strict',
        action: 'quiz',
        thought: `reviewing ${due.length} due card(s)`,
        quiz: due.map((card) => card.quiz),
      };
    }
    return {
      zh: `${to.zh}，小测验来了！看看你记得多少。`,
      vi: `${to.vi}, bài kiểm tra nhỏ đây! Xem huynh nhớ được bao nhiêu.`,
      emotion: 'teasing',
      action: 'quiz',
      thought,
      quiz: buildQuiz(seed),
    };
  }
}
