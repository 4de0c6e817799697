/**
 * Close codes a client can act on: 1008 do not retry as is; 1012 and 1013 reconnect with last_seq;
 * 4001 reconnect with a fresh token and last_seq.
 */
export const CloseCode = { policy: 1008, restarting: 1012, tryAgainLater: 1013, tokenExpired: 4001 } as const;
