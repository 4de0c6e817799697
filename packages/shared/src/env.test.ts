import { describe, expect, it } from 'vitest';
import { commonEnv, EnvError, parseEnv, redisTopologyFrom } from './env.js';

describe('parseEnv', () => {
  it('applies defaults', () => {
    const env = parseEnv(commonEnv, {});
    expect(env).toMatchObject({ QUEUE_PREFIX: 'xiaoyue', HISTORY_TURNS: 20 });
    expect(redisTopologyFrom(env)).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
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

describe('redisTopologyFrom', () => {
  const topology = (source: Record<string, string>) => redisTopologyFrom(parseEnv(commonEnv, source));

  it('reads a cluster from its seed nodes, with credentials and TLS', () => {
    expect(
      topology({ REDIS_CLUSTER_NODES: 'redis-0:6379, 10.0.0.2:7000', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true' }),
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-0', port: 6379 },
        { host: '10.0.0.2', port: 7000 },
      ],
      auth: { username: undefined, password: 'pw', tls: true },
    });
  });

  it('reads Sentinel from its sentinels and the primary name', () => {
    expect(topology({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'xiaoyue' })).toMatchObject({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      primaryName: 'xiaoyue',
    });
  });

  it('refuses two topologies at once and says which variables to choose from', () => {
    expect(() => topology({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' })).toThrow(
      /REDIS_URL, REDIS_CLUSTER_NODES: set only one/,
    );
  });

  it('names a malformed node list', () => {
    expect(() => topology({ REDIS_CLUSTER_NODES: 'redis://a:7000' })).toThrow(
      /REDIS_CLUSTER_NODES: .*not host:port.*expected host:port,host:port/,
    );
  });
});
