import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GatewayEnv } from './env.js';

/** Why a connection was not authenticated; `unavailable`: the token could not be checked (JWKS unreachable). */
export type AuthErrorCode = 'token_required' | 'token_invalid' | 'token_expired' | 'wrong_user' | 'unavailable';

export type AuthResult =
  | {
      ok: true;
      userId: string /** When the token expires (ms since the epoch); none in dev mode. */;
      expiresAt?: number;
    }
  | { ok: false; code: AuthErrorCode; reason: string };

/** Checks who is connecting to `/ws/chat/{pathUserId}`. */
export type Authenticator = (pathUserId: string, token: string | undefined) => Promise<AuthResult>;

/**
 * `jwt`: the token (HS256 with JWT_SECRET, or any JWKS algorithm) must be valid, unexpired, carry
 * an `exp` no further than JWT_MAX_AGE_SECONDS from its `iat` (or from now), come from the
 * configured issuer/audience, and its `sub` must be the user id in the path. `dev`: anyone is who
 * the path says.
 */
export function createAuthenticator(env: GatewayEnv): Authenticator {
  if (env.AUTH_MODE === 'dev') return async (pathUserId) => ({ ok: true, userId: pathUserId });
  const key: Uint8Array | JWTVerifyGetKey = env.JWT_JWKS_URL
    ? createRemoteJWKSet(new URL(env.JWT_JWKS_URL))
    : new TextEncoder().encode(env.JWT_SECRET);
  const options = {
    ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    ...(env.JWT_AUDIENCE ? { audience: env.JWT_AUDIENCE } : {}),
    ...(env.JWT_JWKS_URL ? {} : { algorithms: ['HS256'] }),
  };
  const invalid = (reason: string): AuthResult => ({ ok: false, code: 'token_invalid', reason });
  return async (pathUserId, token) => {
    if (!token) {
      return {
        ok: false,
        code: 'token_required',
        reason: 'a token is required (?token= or Sec-WebSocket-Protocol: bearer, <token>)',
      };
    }
    try {
      const { payload } = await jwtVerify(token, key as Uint8Array, options);
      if (typeof payload.sub !== 'string') return invalid('the token has no subject');
      // A token that never expires would keep a stolen socket open for good.
      if (typeof payload.exp !== 'number') return invalid('the token has no expiry (exp)');
      const issuedAt = typeof payload.iat === 'number' ? payload.iat : Date.now() / 1000;
      if (payload.exp - issuedAt > env.JWT_MAX_AGE_SECONDS) {
        return invalid(`the token lives longer than ${env.JWT_MAX_AGE_SECONDS} s (JWT_MAX_AGE_SECONDS)`);
      }
      if (payload.sub !== pathUserId) return { ok: false, code: 'wrong_user', reason: 'the token is for another user' };
      return { ok: true, userId: payload.sub, expiresAt: payload.exp * 1000 };
    } catch (error) {
      if (error instanceof errors.JWTExpired)
        return { ok: false, code: 'token_expired', reason: 'the token has expired' };
      // The key set could not be fetched: nothing is wrong with the token, so the client may retry.
      if (env.JWT_JWKS_URL && !isTokenError(error)) {
        return { ok: false, code: 'unavailable', reason: 'tokens cannot be checked right now' };
      }
      return invalid('the token is not valid');
    }
  };
}

/** jose's verdict on the token itself, not a failure to fetch or read the key set. */
function isTokenError(error: unknown): boolean {
  return (
    error instanceof errors.JOSEError &&
    !(error instanceof errors.JWKSTimeout) &&
    !(error instanceof errors.JWKSInvalid)
  );
}

/** The token a client sent: `?token=`, or the second entry of `Sec-WebSocket-Protocol: bearer, <token>`. */
export function tokenFrom(query: Record<string, unknown>, protocolHeader: string | undefined): string | undefined {
  if (typeof query.token === 'string' && query.token) return query.token;
  const protocols = (protocolHeader ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.indexOf('bearer');
  return bearer >= 0 ? protocols[bearer + 1] || undefined : undefined;
}
