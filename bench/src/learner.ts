import WebSocket from 'ws';

export interface BenchFrame {
  type: string;
  data: Record<string, unknown>;
}

/** A learner: sends a message, resolves when the frame `done` says the turn is over. */
export class Learner {
  private waiter: ((frame: BenchFrame) => void) | undefined;
  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.waiter?.(frame);
    });
  }

  static async connect(url: string): Promise<Learner> {
    const socket = new WebSocket(url);
    const learner = new Learner(socket);
    await new Promise<void>((resolve, reject) => {
      learner.waiter = (frame) => frame.type === 'welcome' && resolve();
      socket.once('error', reject);
    });
    return learner;
  }

  /** Sends a chat; resolves with ms until `until(frame)` first holds. */
  turn(message: string, until: (frame: BenchFrame) => boolean): Promise<number> {
    this.socket.send(JSON.stringify({ action: 'chat', message }));
    return this.waitFor(until);
  }

  /** Resolves with ms until a frame for which `until(frame)` holds arrives. */
  waitFor(until: (frame: BenchFrame) => boolean): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('turn timed out')), 30_000);
      this.waiter = (frame) => {
        if (frame.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`error frame: ${JSON.stringify(frame.data)}`));
        } else if (until(frame)) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve(performance.now() - started);
        }
      };
    });
  }

  close() {
    this.socket.close();
  }
}

export const isReplyWithAudio = (f: BenchFrame) => f.type === 'reply' && typeof f.data.audio_base64 === 'string';
export const isFirstAudio = (f: BenchFrame) =>
  (f.type === 'reply' || f.type === 'reply_audio') && typeof f.data.audio_base64 === 'string';
