import {
  actionAnswers,
  answerQuiz,
  type ClientAction,
  type ClientFrame,
  type ConversationStore,
  DEFAULT_USER_ROLE,
  DEFAULT_VOICE,
  EDGE_CHINESE_VOICES,
  ESPEAK_VOICE,
  type EventData,
  isEdgeChineseVoice,
  type LearnerStore,
  type ProtocolError,
  type ServerFrame,
  startReview,
  successFrame,
  type TtsVoiceInfo,
} from '@xiaoyue/shared';
import type { JudgeRequest } from './judge.js';
import type { GatewayMetrics } from './metrics.js';
import type { ReplayRequest } from './replay.js';
import type { TurnStarter } from './turns.js';

/** The frame of one action, as `parseClientFrame` validated it. */
export type ActionFrame<A extends ClientAction> = Extract<ClientFrame, { action: A }>;

/** The data of the event that answers an action (the catalog's `actionAnswers`). */
export type ActionAnswer<A extends ClientAction> = EventData<(typeof actionAnswers)[A]>;

/** An error for the learner; the session adds the frame's `request_id`. */
export type ActionError = Omit<ProtocolError, 'request_id'>;

/**
 * What a handler ends with: its answer to send now, an error to send instead, or nothing when the
 * answer comes later through the outbox (chat's reply, a judged translation, a replay).
 */
export type ActionResult<A extends ClientAction> = { answer: ActionAnswer<A> } | ActionError | undefined;

/** The gateway's stores and queues, shared by every socket. */
export interface ActionServices {
  store: ConversationStore;
  /** The learner's progress: quizzes, review cards, level. */
  learners: LearnerStore;
  turns: TurnStarter;
  /**
   * Hands a translation the rules graded wrong to the agents' LLM (its `quiz_result` comes through
   * the outbox); false when no LLM can judge (offline tutor), so the rules' grade stands.
   */
  judgeTranslation: (request: JudgeRequest) => Promise<boolean>;
  /** Queues a past line for speech again; false if the turn is not in the history. */
  replay: (request: ReplayRequest) => Promise<boolean>;
  /** What the TTS pool speaks with (its provider and default voice), if a TTS worker said. */
  ttsVoice: () => Promise<TtsVoiceInfo | undefined>;
}

/** What a handler knows of the socket it answers: whose it is, and the turn bookkeeping it keeps. */
export interface ActionContext extends ActionServices {
  userId: string;
  /** Replies come sentence by sentence (`?stream=1`). */
  stream: boolean;
  metrics?: GatewayMetrics;
  /** A turn of this socket started: time it, and watch the outbox until it ends. */
  turnStarted(): void;
  /** Her streamed reply is in flight: stop it, and send `frame` once that turn has ended. */
  interruptWith(frame: ActionFrame<'chat'>, activeTurnId: string): Promise<void>;
  /** The answer will come through the outbox as this event: read it now and then in case pub/sub misses it. */
  awaitOutbox(event: 'quiz_result' | 'replay_audio'): void;
}

export interface ActionHandler<A extends ClientAction> {
  /** A testing aid, answered only with ALLOW_DEBUG_ACTIONS. */
  debug?: true;
  handle(frame: ActionFrame<A>, context: ActionContext): Promise<ActionResult<A>>;
}

/** One handler per action: an action added to the protocol without one does not compile. */
export type ActionHandlers = { [A in ClientAction]: ActionHandler<A> };

export const busyError: ActionError = {
  code: 'busy',
  message: 'XiaoYue is still answering your previous message; send this one after her reply',
};

export const actionHandlers: ActionHandlers = {
  chat: {
    async handle(frame, context) {
      const started = await context.turns.start({
        userId: context.userId,
        message: frame.message,
        userRole: frame.user_role ?? DEFAULT_USER_ROLE,
        requestId: frame.request_id,
        stream: context.stream,
      });
      if (started.kind === 'started') {
        context.turnStarted();
        return { answer: { is_typing: true, turn_id: started.turnId } };
      }
      // Streaming: a new message interrupts her instead of waiting for her to finish.
      if (!context.stream || !started.activeTurnId) return busyError;
      await context.interruptWith(frame, started.activeTurnId);
      return undefined;
    },
  },
  reset: { handle: async (_frame, { store, userId }) => ({ answer: await store.reset(userId) }) },
  get_state: {
    async handle(_frame, { store, userId }) {
      const [state, history] = await Promise.all([store.getState(userId), store.history(userId)]);
      return { answer: { ...state, history } };
    },
  },
  set_sulking: {
    debug: true,
    handle: async (frame, { store, userId }) => ({ answer: await store.setSulkingLevel(userId, frame.level) }),
  },
  answer: { handle: handleAnswer },
  review: { handle: async (_frame, { learners, userId }) => ({ answer: await startReview(learners, userId) }) },
  get_progress: { handle: async (_frame, { learners, userId }) => ({ answer: await learners.progress(userId) }) },
  set_level: {
    async handle(frame, { learners, userId }) {
      await learners.setLevel(userId, frame.level);
      return { answer: { level: frame.level } };
    },
  },
  clear_progress: {
    async handle(_frame, { learners, userId }) {
      await learners.clear(userId);
      return { answer: await learners.progress(userId) };
    },
  },
  replay: {
    async handle(frame, context) {
      const { replay, userId } = context;
      const request = { userId, turnId: frame.turn_id, rate: frame.rate, requestId: frame.request_id };
      if (await replay(request)) {
        context.awaitOutbox('replay_audio');
        return undefined;
      }
      return {
        code: 'unknown_turn',
        message: `No line of hers with turn_id "${frame.turn_id.slice(0, 64)}" in this conversation`,
      };
    },
  },
  get_voices: {
    async handle(_frame, { learners, ttsVoice, userId }) {
      const [tts, chosen] = await Promise.all([ttsVoice(), learners.voice(userId)]);
      // Offline (TTS_PROVIDER=espeak) she has one voice, whatever the learner chose for Edge.
      if (tts?.provider === 'espeak') return { answer: { voices: [ESPEAK_VOICE], current: ESPEAK_VOICE.name } };
      return { answer: { voices: [...EDGE_CHINESE_VOICES], current: chosen ?? tts?.voice ?? DEFAULT_VOICE } };
    },
  },
  set_voice: {
    async handle(frame, { learners, userId }) {
      if (!isEdgeChineseVoice(frame.voice)) {
        return {
          code: 'invalid_message',
          message: `"voice": unknown voice "${frame.voice.slice(0, 64)}" (get_voices lists hers)`,
        };
      }
      await learners.setVoice(userId, frame.voice);
      return { answer: { voice: frame.voice } };
    },
  },
};

/** Runs the handler of a frame's action; an answer comes back as the frame the catalog names for it. */
export async function runAction<A extends ClientAction>(
  frame: ActionFrame<A>,
  context: ActionContext,
): Promise<ServerFrame | ActionError | undefined> {
  const action: A = frame.action;
  const result = await actionHandlers[action].handle(frame, context);
  if (result === undefined || !('answer' in result)) return result;
  return successFrame(actionAnswers[action], result.answer, frame.request_id);
}

/** Grades the learner's answer to a quiz (once); a translation may go to the LLM judge instead. */
async function handleAnswer(frame: ActionFrame<'answer'>, context: ActionContext): Promise<ActionResult<'answer'>> {
  const { userId, learners, store } = context;
  const quizId = frame.quiz_id.slice(0, 64);
  const { sulking_level } = await store.getState(userId);
  const outcome = await answerQuiz(learners, userId, {
    quizId: frame.quiz_id,
    answer: frame.answer,
    sulkingLevel: sulking_level,
    defer: async (quiz) =>
      quiz.draft.type === 'translate' &&
      context.judgeTranslation({
        userId,
        quiz,
        answer: frame.answer,
        sulkingLevel: sulking_level,
        requestId: frame.request_id,
      }),
  });
  switch (outcome.kind) {
    case 'deferred':
      context.awaitOutbox('quiz_result');
      return undefined;
    case 'graded':
      context.metrics?.quizAnswers.inc({ type: outcome.type, correct: String(outcome.result.correct) });
      return { answer: outcome.result };
    case 'unknown_quiz':
      return { code: 'unknown_quiz', message: `No open quiz with id "${quizId}"` };
    case 'already_answered':
      return {
        code: 'already_answered',
        message: `Quiz "${quizId}" was already answered (the answer: ${outcome.expected})`,
      };
  }
}
