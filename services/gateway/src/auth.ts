import { createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GatewayEnv } from './env.js';

export type AuthResult = { ok: true; userId: string } | { ok: false; reason: string };

/** Checks who is connecting to `/ws/chat/{pathUserId}`. */
export type Authenticator = (pathUserId: string, token: string | undefined) => Promise<AuthResult>;

/**
 * `jwt`: the token (HS256 with JWT_SECRET, or any JWKS algorithm) must be valid, unexpired, from
 * the configured issuer/audience, and its `sub` must be the user id in the path. `dev`: anyone is
 * who the path says.
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
  return async (pathUserId, token) => {
    if (!token)
      return { ok: false, reason: 'a token is required (?token= or Sec-WebSocket-Protocol: bearer, <token>)' };
    try {
      const { payload } = await jwtVerify(token, key as Uint8Array, options);
      if (typeof payload.sub !== 'string') return { ok: false, reason: 'the token has no subject' };
      if (payload.sub !== pathUserId) return { ok: false, reason: 'the token is for another user' };
      return { ok: true, userId: payload.sub };
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'invalid';
      return { ok: false, reason: code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid' };
    }
  };
}

/** The token a client sent: `?token=`, or the second entry of `Sec-WebSocket-Protocol: bearer, <token>`. */
export function tokenFrom(query: Record<string, unknown>, protocolHeader: string | undefined): string | undefined {
  if (typeof query.token === 'string' && query.token) return query.token;
  const protocols = (protocolHeader ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.indexOf('bearer');
  return bearer >= 0 ? protocols[bearer + 1] || undefined : undefined;
}
