import { type AnyServerFrame, XiaoYueClient } from '@xiaoyue/client';
import WebSocket from 'ws';

/** A learner of the benchmark: XiaoYue's own client, timing a turn up to the frame that matters. */
export class Learner {
  private constructor(private readonly client: XiaoYueClient) {}

  static async connect(baseUrl: string, userId: string, options: { stream?: boolean } = {}): Promise<Learner> {
    const client = new XiaoYueClient({ url: baseUrl, userId, stream: options.stream, WebSocket, reconnect: false });
    await client.connect();
    return new Learner(client);
  }

  /**
   * Sends a chat; resolves with the ms until `until(frame)` first holds for one of its frames
   * (the learner's view: after de-duplication). An error answer (busy, rate limited) rejects.
   */
  async turn(message: string, until: (frame: AnyServerFrame) => boolean): Promise<number> {
    const started = performance.now();
    let reachedMs: number | undefined;
    const check = (frame: AnyServerFrame) => {
      if (reachedMs === undefined && until(frame)) reachedMs = performance.now() - started;
    };
    const offs = [
      this.client.on('reply', (_data, frame) => check(frame)),
      this.client.on('reply_audio', (_data, frame) => check(frame)),
      this.client.on('reply_done', (_data, frame) => check(frame)),
    ];
    try {
      const { reply } = await this.client.chat(message, { turnTimeoutMs: 30_000 });
      // Listeners run before the turn's end settles `reply`: by then the frame was seen, or never will be.
      const end = await reply;
      if (reachedMs === undefined) throw new Error(`the turn ended (${end.type}) without the frame awaited`);
      return reachedMs;
    } finally {
      for (const off of offs) off();
    }
  }

  close(): void {
    this.client.close();
  }
}

export const isReplyWithAudio = (f: AnyServerFrame) => f.type === 'reply' && typeof f.data.audio_base64 === 'string';
export const isFirstAudio = (f: AnyServerFrame) =>
  (f.type === 'reply' || f.type === 'reply_audio') && typeof f.data.audio_base64 === 'string';
