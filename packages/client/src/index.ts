export { backoffDelay, DEFAULT_RECONNECT } from './backoff.js';
export { XiaoYueClient } from './client.js';
export { type ClientErrorCode, XiaoYueError } from './errors.js';
export type * from './types.js';
