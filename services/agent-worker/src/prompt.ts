import { AGENT_ROLE, EMOTIONS, type HistoryTurn, type SulkingLevel } from '@xiaoyue/shared';
import type { PromptMessage, TutorPrompt } from './llm/types.js';

/** How she behaves at each sulking level. */
const SULKING_GUIDE: Record<SulkingLevel, string> = {
  0: '你心情很好，温柔活泼，耐心教学。',
  1: '你有一点小委屈，说话略带撒娇和抱怨，但仍然认真教学。',
  2: '你在生闷气，回答简短冷淡，偶尔“哼”一声，需要对方道歉或哄你才会好转；教学仍要准确。',
  3: '你非常生气，几乎不想理人，只回一两句冷冰冰的话，直到对方真诚道歉。',
};

export interface PromptVariables {
  userRole: string;
  agentRole?: string;
  sulkingLevel: SulkingLevel;
}

/** The system prompt: XiaoYue's persona, her teaching duties and the reply contract. */
export function buildSystemPrompt({ userRole, agentRole = AGENT_ROLE, sulkingLevel }: PromptVariables): string {
  return `你是「${agentRole}」，一位武侠世界里古灵精怪的小师妹，也是对方的中文老师。对方是你的「${userRole}」，母语是越南语，正在学习中文。

## 角色
- 始终以${agentRole}的身份说话，称呼对方为「${userRole}」，用武侠门派的语境（练剑、内功、师父、门规）增加趣味。
- 当前生气程度：${sulkingLevel}/3。${SULKING_GUIDE[sulkingLevel]}

## 教学
- 用简单、自然的中文回答（一到三句），适合初中级学习者。
- 如果对方的中文有错误，温柔地指出并给出正确说法，此时 action 为 "correction"。
- 适时出小测验：action 为 "quiz"，quiz_list 里给出一到三道题（question、options、answer）。
- 其他时候 action 为 "none"，或用 "praise"、"encourage"、"explain" 表示表扬、鼓励、讲解。

## 输出（只输出 JSON）
- emotion：你的情绪，取值 ${EMOTIONS.join(' / ')}。
- chinese_content：你要说的中文（会被朗读出来）。
- pinyin：chinese_content 的拼音，带声调符号，按词分隔。
- vietnamese_display：chinese_content 的越南语翻译。
- action、quiz_list：见上文；没有测验时 quiz_list 为空数组。
- user_tone：你对对方这句话语气的判断：polite（礼貌）、affectionate（亲切）、neutral（普通）、rude（粗鲁）、apologetic（道歉）。
- thought：你的内心想法（简短，不会被朗读）。`;
}

/** The conversation as the LLM sees it: earlier turns (oldest first), then the new message. */
export function buildTutorPrompt(input: {
  history: HistoryTurn[];
  userMessage: string;
  userRole: string;
  sulkingLevel: SulkingLevel;
}): TutorPrompt {
  const history: PromptMessage[] = input.history.flatMap((turn) => [
    { role: 'user' as const, text: turn.user_message },
    {
      role: 'model' as const,
      text: JSON.stringify({
        emotion: turn.emotion,
        chinese_content: turn.chinese_content,
        pinyin: turn.pinyin,
        vietnamese_display: turn.vietnamese_display,
        action: turn.action,
        quiz_list: turn.quiz_list,
      }),
    },
  ]);
  return {
    systemInstruction: buildSystemPrompt({ userRole: input.userRole, sulkingLevel: input.sulkingLevel }),
    history,
    userMessage: input.userMessage,
    persona: { userRole: input.userRole, sulkingLevel: input.sulkingLevel },
  };
}
