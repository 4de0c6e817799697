import { commonEnv, EnvError, envKit, parseEnv } from '@xiaoyue/shared';
import { z } from 'zod';

export const gatewayEnvSchema = commonEnv.extend({
  PORT: envKit.int(0, 65_535).default(8000),
  HOST: z.string().default('0.0.0.0'),
  /** Largest client frame answered with `frame_too_large` rather than processed. */
  MAX_FRAME_BYTES: envKit.int(256, 1_048_576).default(16_384),
  /** Longest chat message, in characters. */
  MAX_MESSAGE_CHARS: envKit.int(1, 10_000).default(500),
  /** A socket whose unsent data passes this is closed with 1013 (it can resume with last_seq). */
  MAX_SOCKET_BUFFER_BYTES: envKit.int(65_536, 512 * 1_048_576).default(8 * 1_048_576),
  /** `jwt`: every socket needs a token. `dev`: anonymous learners (local runs only; logs a warning). */
  AUTH_MODE: z.enum(['jwt', 'dev']).default('jwt'),
  /** HS256 secret for tokens (at least 32 characters), or… */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** …a JWKS URL for asymmetric tokens (RS256/ES256/EdDSA). */
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  /** Browser origins allowed to connect (comma-separated); unset: any. Clients without Origin are not browsers. */
  ALLOWED_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .optional(),
  /** `set_sulking` and other testing aids. */
  ALLOW_DEBUG_ACTIONS: envKit.bool.default(false),
  /** Per learner, across all gateways: actions per minute, and how many may come at once. */
  RATE_LIMIT_PER_MINUTE: envKit.int(1, 100_000).default(60),
  RATE_LIMIT_BURST: envKit.int(1, 10_000).default(10),
  /**
   * A socket is closed (1008) when it sends a refused frame after this many in a row. Every frame
   * counts against the budget above, invalid ones too.
   */
  MAX_CONSECUTIVE_REFUSALS: envKit.int(1, 1_000_000).default(50),
  /** Open sockets per learner, across all gateways. */
  MAX_SOCKETS_PER_USER: envKit.int(1, 1_000).default(5),
  /** Every socket is pinged this often; one that misses two pongs is terminated and its slot freed. */
  HEARTBEAT_MS: envKit.int(100, 600_000).default(30_000),
  /** Longest token lifetime accepted (exp − iat, or exp − now without iat); tokens without exp are refused. */
  JWT_MAX_AGE_SECONDS: envKit.int(60, 31 * 24 * 3600).default(24 * 3600),
  /**
   * Connection attempts per minute and burst, counted in this gateway's memory: per learner (once
   * the token is checked, so nobody else can use up a learner's budget) and per client address.
   */
  USER_CONNECTS_PER_MINUTE: envKit.int(1, 100_000).default(30),
  USER_CONNECT_BURST: envKit.int(1, 10_000).default(10),
  ADDRESS_CONNECTS_PER_MINUTE: envKit.int(1, 1_000_000).default(600),
  ADDRESS_CONNECT_BURST: envKit.int(1, 100_000).default(200),
  /** Proxies in front of the gateway whose X-Forwarded-For is trusted for the client address (0: none). */
  TRUST_PROXY_HOPS: envKit.int(0, 10).default(0),
  /** `/metrics` (with `/healthz`, `/readyz`) on its own port, bound to HOST; unset: none. */
  METRICS_PORT: envKit.int(0, 65_535).optional(),
  /** Or `/metrics` on the chat port, for `Authorization: Bearer <METRICS_TOKEN>` only (at least 32 characters). */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function loadGatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const env = parseEnv(gatewayEnvSchema, source);
  if (env.AUTH_MODE === 'jwt' && !env.JWT_SECRET && !env.JWT_JWKS_URL) {
    throw new EnvError(
      'Invalid environment configuration:\n  JWT_SECRET: required when AUTH_MODE=jwt (or set JWT_JWKS_URL; AUTH_MODE=dev allows anonymous learners for local runs)',
    );
  }
  const weak = (['JWT_SECRET', 'METRICS_TOKEN'] as const).filter((name) => isGuessable(env[name]));
  if (weak.length > 0) {
    throw new EnvError(
      `Invalid environment configuration:\n${weak.map((name) => `  ${name}: a placeholder or guessable value; make one with \`openssl rand -base64 48\``).join('\n')}`,
    );
  }
  return env;
}

/** Placeholders copied from examples, and strings with too little variety to be a secret. */
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|placeholder|example|your[-_ ]/i;

/**
 * Whether a secret is guessable: a known placeholder, or fewer than 10 distinct characters (32
 * random hex digits have about 15, base64 about 25; `aaaa…` or `12345678` repeated have a handful).
 */
export function isGuessable(secret: string | undefined): boolean {
  if (secret === undefined) return false;
  return PLACEHOLDER.test(secret) || new Set(secret).size < 10;
}
