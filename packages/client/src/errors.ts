import type { ErrorCode, ServerFrame } from '@xiaoyue/shared';

/**
 * Why a request or a turn failed on the client's side:
 * - `disconnected`: the socket dropped (or was not connected) before the answer came; the action
 *   may or may not have happened on the server.
 * - `timeout`: no answer within the time allowed.
 * - `closed`: the client stopped for good (`close()`, a refusal: 1008 or an HTTP 400/401/403 answer
 *   to the upgrade, or reconnecting gave up).
 */
export type ClientErrorCode = 'disconnected' | 'timeout' | 'closed';

/** A request answered with an `error` frame (its `code`), or one the client gave up on. */
export class XiaoYueError extends Error {
  override readonly name = 'XiaoYueError';

  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    /** The server's `error` frame, when the server answered. */
    readonly frame?: ServerFrame<'error'>,
  ) {
    super(message);
  }

  static fromFrame(frame: ServerFrame<'error'>): XiaoYueError {
    return new XiaoYueError(frame.data.code, `${frame.data.code}: ${frame.data.message}`, frame);
  }
}
