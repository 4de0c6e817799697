import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentEnvSchema } from '@xiaoyue/agent-worker/env';
import { gatewayEnvSchema } from '@xiaoyue/gateway/env';
import { ttsEnvSchema } from '@xiaoyue/tts-worker/env';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './manifests.js';

const composePath = join(repoRoot, 'docker-compose.yml');
const compose = parse(readFileSync(composePath, 'utf8'), { merge: true });
const hasComposeV1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
const SCHEMAS: Record<string, { shape: Record<string, unknown> }> = {
  gateway: gatewayEnvSchema,
  'agent-worker': agentEnvSchema,
  'tts-worker': ttsEnvSchema,
};

describe('docker-compose.yml', () => {
  it.skipIf(!hasComposeV1)('is valid for docker-compose (apt package docker-compose)', () => {
    const result = spawnSync('docker-compose', ['-f', composePath, 'config', '-q'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs Redis with AOF and no eviction, on a volume', () => {
    const redis = compose.services.redis;
    expect(redis.command.join(' ')).toMatch(/--appendonly yes .*--maxmemory-policy noeviction/);
    expect(redis.volumes[0]).toMatch(/^redis-data:\/data$/);
    expect(redis.healthcheck).toBeDefined();
  });

  it.each(Object.keys(SCHEMAS))('sets only variables %s reads, REDIS_URL included', (name) => {
    const service = compose.services[name];
    const schema = SCHEMAS[name] as { shape: Record<string, unknown> };
    const variables = Object.keys(service.environment);
    expect(variables).toContain('REDIS_URL');
    for (const variable of variables) expect(variable in schema.shape, `${name}: ${variable}`).toBe(true);
  });

  it('lets the worker pools scale (no fixed names or host ports)', () => {
    for (const name of ['agent-worker', 'tts-worker']) {
      expect(compose.services[name].container_name).toBeUndefined();
      expect(compose.services[name].ports).toBeUndefined();
      expect(compose.services[name].build.target).toBe(name);
    }
  });
});
