import type { WebSocket } from 'ws';
import { CloseCode } from './close-codes.js';

/** Pings a socket may leave unanswered; at the next sweep it is terminated. */
const MISSED_PONGS_ALLOWED = 2;

export const TOKEN_EXPIRED_REASON = 'token expired; reconnect with a fresh token and last_seq';

interface Watched {
  /** Pings sent (or sweeps passed while closing) since the last pong. */
  unanswered: number;
  /** When the socket's token expires (ms since the epoch). */
  expiresAt: number | undefined;
}

/**
 * One timer for all the gateway's sockets. Every `intervalMs` each socket is pinged; one that has
 * left two pings unanswered is terminated (its 'close' handler then frees its slot), and one whose
 * token has expired is closed with 4001. A socket closing that way gets the same two sweeps to
 * finish the close handshake before it is terminated.
 */
export class SocketSweep {
  private readonly watched = new Map<WebSocket, Watched>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  watch(socket: WebSocket, expiresAt?: number): void {
    const watched: Watched = { unanswered: 0, expiresAt };
    this.watched.set(socket, watched);
    socket.on('pong', () => {
      watched.unanswered = 0;
    });
  }

  forget(socket: WebSocket): void {
    this.watched.delete(socket);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const now = this.now();
    for (const [socket, watched] of this.watched) {
      if (watched.unanswered >= MISSED_PONGS_ALLOWED) {
        this.watched.delete(socket);
        socket.terminate();
        continue;
      }
      watched.unanswered++;
      if (watched.expiresAt === undefined || watched.expiresAt > now) socket.ping();
      else if (socket.readyState === socket.OPEN) socket.close(CloseCode.tokenExpired, TOKEN_EXPIRED_REASON);
    }
  }
}
