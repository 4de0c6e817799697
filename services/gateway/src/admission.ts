import { type Logger, UserId } from '@xiaoyue/shared';
import { type AuthErrorCode, type Authenticator, tokenFrom } from './auth.js';
import { ConnectThrottle } from './connect-throttle.js';
import type { GatewayEnv } from './env.js';
import type { LearnerLimits } from './limits.js';

/**
 * Why an upgrade was answered over HTTP instead of with a socket: the status, and the body
 * `{error, message}`. 400, 401 and 403 will not change by retrying as is; 429 and 503 will, after
 * `retryAfterSeconds` (the Retry-After header).
 */
export interface Refusal {
  status: 400 | 401 | 403 | 429 | 503;
  error: RefusalCode;
  message: string;
  retryAfterSeconds?: number;
}

export type RefusalCode =
  | 'invalid_user_id'
  | Exclude<AuthErrorCode, 'unavailable'>
  | 'origin_not_allowed'
  | 'too_many_connects'
  | 'too_many_sockets'
  | 'draining'
  | 'unavailable';

/** Who may open a socket: the learner, and when their token expires (ms since the epoch; none in dev mode). */
export interface Admitted {
  userId: string;
  tokenExpiresAt?: number;
}

/** The parts of an upgrade request admission reads. */
export interface UpgradeRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The client's address (behind TRUST_PROXY_HOPS proxies, from X-Forwarded-For). */
  ip: string;
}

const AUTH_STATUS: Record<AuthErrorCode, Refusal['status']> = {
  token_required: 401,
  token_invalid: 401,
  token_expired: 401,
  wrong_user: 403,
  unavailable: 503,
};

/** A learner with every slot taken must close a socket first: no sooner retry can help. */
const FULL_RETRY_AFTER_SECONDS = 30;
/** Redis or the key set could not be reached; a draining gateway's clients should go elsewhere. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Decides, before the upgrade, whether a connection may become a socket, cheapest checks first:
 * draining, the address's connect budget, the user id, the origin, the token, the learner's
 * connect budget (counted only once the token is the learner's, so nobody else can use it up),
 * then whether the learner has a socket slot free (Redis). It only looks: the slot is claimed once
 * the socket is open.
 */
export class Admission {
  private readonly perAddress: ConnectThrottle;
  private readonly perLearner: ConnectThrottle;

  constructor(
    private readonly deps: {
      env: GatewayEnv;
      authenticate: Authenticator;
      limits: LearnerLimits;
      isDraining: () => boolean;
      logger: Logger;
    },
  ) {
    const { env } = deps;
    this.perAddress = new ConnectThrottle({
      perMinute: env.ADDRESS_CONNECTS_PER_MINUTE,
      burst: env.ADDRESS_CONNECT_BURST,
    });
    this.perLearner = new ConnectThrottle({ perMinute: env.USER_CONNECTS_PER_MINUTE, burst: env.USER_CONNECT_BURST });
  }

  async admit(request: UpgradeRequest): Promise<Admitted | { refusal: Refusal }> {
    const { env } = this.deps;
    if (this.deps.isDraining()) {
      return refuse(503, 'draining', 'the gateway is restarting; connect again', UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
    const addressBudget = this.perAddress.take(request.ip);
    if (!addressBudget.allowed) return tooManyConnects('from this address', addressBudget.retryAfterMs);
    const userId = UserId.safeParse(decodeURIComponentSafe((request.params['*'] ?? '').replace(/\/$/, '')));
    if (!userId.success) return refuse(400, 'invalid_user_id', 'user_id must be 1-64 of A-Z a-z 0-9 _ -');
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
    if (origin && env.ALLOWED_ORIGINS && !env.ALLOWED_ORIGINS.includes(origin)) {
      return refuse(403, 'origin_not_allowed', 'origin not allowed');
    }
    const protocol = request.headers['sec-websocket-protocol'];
    const auth = await this.deps.authenticate(
      userId.data,
      tokenFrom(request.query, typeof protocol === 'string' ? protocol : undefined),
    );
    if (!auth.ok) {
      return auth.code === 'unavailable'
        ? refuse(503, 'unavailable', auth.reason, UNAVAILABLE_RETRY_AFTER_SECONDS)
        : refuse(AUTH_STATUS[auth.code], auth.code, auth.reason);
    }
    const learnerBudget = this.perLearner.take(auth.userId);
    if (!learnerBudget.allowed) return tooManyConnects('for this learner', learnerBudget.retryAfterMs);
    try {
      if (!(await this.deps.limits.hasFreeSocket(auth.userId))) {
        return refuse(
          429,
          'too_many_sockets',
          `too many open connections (at most ${env.MAX_SOCKETS_PER_USER})`,
          FULL_RETRY_AFTER_SECONDS,
        );
      }
    } catch (error) {
      this.deps.logger.warn({ err: (error as Error).message }, 'cannot check socket slots: Redis unreachable');
      return refuse(503, 'unavailable', 'XiaoYue cannot reach her memory right now', UNAVAILABLE_RETRY_AFTER_SECONDS);
    }
    return { userId: auth.userId, tokenExpiresAt: auth.expiresAt };
  }
}

function refuse(
  status: Refusal['status'],
  error: RefusalCode,
  message: string,
  retryAfterSeconds?: number,
): { refusal: Refusal } {
  return { refusal: { status, error, message, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) } };
}

function tooManyConnects(whose: string, retryAfterMs: number): { refusal: Refusal } {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return refuse(429, 'too_many_connects', `too many connection attempts ${whose}; try again in ${seconds} s`, seconds);
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
