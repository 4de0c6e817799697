import { commonEnv, envKit, parseEnv } from '@xiaoyue/shared';
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
});
export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export const loadGatewayEnv = (source: NodeJS.ProcessEnv = process.env) => parseEnv(gatewayEnvSchema, source);
