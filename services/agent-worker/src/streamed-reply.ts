import {
  type CatalogQueue,
  type ChatJob,
  EMOTIONS,
  type Emotion,
  endTurn,
  enqueue,
  type Outbox,
  type PendingReply,
  queueCatalog,
  type StreamJob,
  type SulkingLevel,
  voiceFor,
} from '@xiaoyue/shared';
import { Allow, parse } from 'partial-json';
import type { AgentReply } from './llm/reply-contract.js';
import { toPinyin } from './pinyin-tokens.js';
import { SentenceSplitter } from './sentences.js';

/** True once the JSON text holds the whole `chinese_content` string (closing quote included). */
const CHINESE_COMPLETE = /"chinese_content"\s*:\s*"(?:[^"\\]|\\.)*"/;

interface PartialReply {
  emotion?: string;
  chinese_content?: string;
}

export interface StreamedReplyDeps {
  outbox: Outbox;
  ttsQueue: CatalogQueue<'tts'>;
}

/**
 * Streams one turn's reply to the learner while the LLM is still writing it: `reply_start` with
 * her emotion, then for each sentence as soon as it is complete a `reply_text` (Chinese + pinyin)
 * and a TTS job; the TTS pool's `reply_audio` events and finally `reply_done` go out in sentence
 * order through the turn's outbox gate.
 */
export class StreamedReply {
  private readonly splitter = new SentenceSplitter();
  private readonly sentences: string[] = [];
  /** Each sentence's speech job, to take it off the queue if the learner interrupts. */
  private readonly speechJobs: StreamJob[] = [];
  private emotion: Emotion = 'neutral';
  private started = false;

  constructor(
    private readonly job: ChatJob,
    private readonly deps: StreamedReplyDeps,
    /** Her sulk when the turn began: at 2 and above every sentence gets her sulking voice. */
    private readonly sulkingLevel: SulkingLevel = 0,
    /** The learner's voice (`set_voice`); absent: the TTS worker's TTS_VOICE. */
    private readonly voice?: string,
  ) {}

  get sentenceCount(): number {
    return this.sentences.length;
  }

  /** Takes everything the LLM has written so far and sends the sentences it completes. */
  async update(jsonSoFar: string): Promise<void> {
    let partial: PartialReply;
    try {
      partial = parse(jsonSoFar, Allow.ALL) as PartialReply;
    } catch {
      return; // not enough text to read anything yet
    }
    const chinese = typeof partial.chinese_content === 'string' ? partial.chinese_content : undefined;
    // Emotion comes first in the schema: once her line has begun, the emotion is complete.
    if (chinese !== undefined && !this.started) await this.start(asEmotion(partial.emotion));
    if (chinese === undefined) return;
    const complete = CHINESE_COMPLETE.test(jsonSoFar);
    for (const sentence of complete ? this.splitter.finish(chinese) : this.splitter.push(chinese))
      await this.send(sentence);
  }

  /** What was said before the stream broke, as a reply to keep (or undefined if nothing was). */
  salvage(): AgentReply | undefined {
    if (this.sentences.length === 0) return undefined;
    const chinese = this.sentences.join('');
    return {
      thought: 'the stream broke off; keeping what was said',
      emotion: this.emotion,
      chinese_content: chinese,
      pinyin: toPinyin(chinese),
      vietnamese_display: '',
      action: 'none',
      quiz_list: [],
      user_tone: 'neutral',
    };
  }

  /**
   * Ends the turn: speaks whatever of `data` was not streamed yet (all of it for a fallback line),
   * then queues `reply_done` behind the last sentence's audio.
   */
  async finish(data: PendingReply, rawChinese = data.chinese_content): Promise<void> {
    if (!this.started) await this.start(data.emotion);
    for (const sentence of this.splitter.finish(rawChinese)) await this.send(sentence);
    await this.end(data, { sentences: this.sentences.length });
  }

  /**
   * Ends an interrupted turn: its gate closes (speech still on its way is dropped), queued
   * sentence jobs come off the queue, and `reply_done` says what was said.
   */
  async interrupt(data: PendingReply): Promise<void> {
    const { job } = this;
    await this.deps.outbox.closeGate(job.user_id, job.turn_id);
    // A job a TTS worker already runs is aborted at its next claim renewal; its audio, if any, is dropped by the closed gate.
    await Promise.all(this.speechJobs.map((speech) => this.deps.ttsQueue.remove(speech).catch(() => 0)));
    await this.end(data, { sentences: this.sentences.length, cut: true });
  }

  private async end(data: PendingReply, stream: { sentences: number; cut?: true }): Promise<void> {
    await endTurn(this.deps.outbox, {
      userId: this.job.user_id,
      requestId: this.job.request_id,
      data: { ...data, audio_base64: null },
      stream,
    });
  }

  private async start(emotion: Emotion): Promise<void> {
    this.started = true;
    this.emotion = emotion;
    const { job } = this;
    await this.deps.outbox.append(job.user_id, {
      type: 'reply_start',
      data: { turn_id: job.turn_id, emotion },
      requestId: job.request_id,
    });
  }

  private async send(chinese: string): Promise<void> {
    const index = this.sentences.length;
    this.sentences.push(chinese);
    const { job } = this;
    await this.deps.outbox.append(job.user_id, {
      type: 'reply_text',
      data: { turn_id: job.turn_id, index, chinese, pinyin: toPinyin(chinese) },
      requestId: job.request_id,
    });
    const speech = await enqueue(this.deps.ttsQueue, queueCatalog.tts, {
      turn_id: job.turn_id,
      user_id: job.user_id,
      request_id: job.request_id,
      text: chinese,
      emotion: voiceFor(this.emotion, this.sulkingLevel),
      deadline_at: job.deadline_at,
      sentence: { index },
      ...(this.voice ? { voice: this.voice } : {}),
    });
    this.speechJobs.push(speech);
  }
}

function asEmotion(value: unknown): Emotion {
  return (EMOTIONS as readonly string[]).includes(value as string) ? (value as Emotion) : 'neutral';
}
