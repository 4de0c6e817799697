import { describe, expect, it } from 'vitest';
import { commonEnv, EnvError, parseEnv } from './env.js';

describe('parseEnv', () => {
  it('applies defaults', () => {
    const env = parseEnv(commonEnv, {});
    expect(env).toMatchObject({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'xiaoyue', HISTORY_TURNS: 20 });
  });

  it('treats empty values as unset', () => {
    expect(parseEnv(commonEnv, { HISTORY_TURNS: '' }).HISTORY_TURNS).toBe(20);
  });

  it('fails with a message naming each bad variable', () => {
    const attempt = () =>
      parseEnv(commonEnv, { HISTORY_TURNS: 'twenty', REDIS_URL: 'localhost:6379', TURN_TIMEOUT_MS: '5' });
    expect(attempt).toThrow(EnvError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/HISTORY_TURNS/);
      expect(message).toMatch(/REDIS_URL: must be a redis:\/\//);
      expect(message).toMatch(/TURN_TIMEOUT_MS/);
    }
  });
});
