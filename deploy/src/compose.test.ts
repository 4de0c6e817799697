import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEnvSchema, loadAgentEnv } from '@xiaoyue/agent-worker/env';
import { gatewayEnvSchema, loadGatewayEnv } from '@xiaoyue/gateway/env';
import { loadTtsEnv, ttsEnvSchema } from '@xiaoyue/tts-worker/env';
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

/** `KEY=value` lines of a `.env` file, as compose reads them (comments and blank lines skipped). */
function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1] as string] = (match[2] as string).trim();
  }
  return values;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` in one value. */
function interpolate(value: unknown, vars: Record<string, string>): string {
  return String(value).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g, (_all, name, colon, fallback) => {
    const set = vars[name];
    if (fallback === undefined) return set ?? '';
    return set === undefined || (colon === ':' && set === '') ? fallback : set;
  });
}

/**
 * Each service's environment as compose gives it with `dotEnv` as the `.env` next to the compose
 * file: `docker-compose config` when docker-compose is installed, else the same interpolation here.
 */
function composeEnvironments(dotEnv: string): Record<string, Record<string, string>> {
  if (hasComposeV1) {
    const dir = mkdtempSync(join(tmpdir(), 'xiaoyue-compose-'));
    try {
      writeFileSync(join(dir, '.env'), dotEnv);
      // Only PATH from this process: a variable exported in the developer's shell would win over .env.
      const result = spawnSync(
        'docker-compose',
        ['-f', composePath, '--project-directory', repoRoot, '--env-file', join(dir, '.env'), 'config'],
        { encoding: 'utf8', env: { PATH: process.env.PATH } },
      );
      if (result.status !== 0) throw new Error(result.stderr);
      const rendered = parse(result.stdout);
      return Object.fromEntries(
        Object.entries(rendered.services as Record<string, { environment: Record<string, unknown> }>).map(
          ([name, service]) => [
            name,
            Object.fromEntries(
              Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
            ),
          ],
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const vars = parseDotEnv(dotEnv);
  return Object.fromEntries(
    Object.entries(compose.services as Record<string, { environment?: Record<string, unknown> }>).map(
      ([name, service]) => [
        name,
        Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v, vars)])),
      ],
    ),
  );
}

describe('docker-compose.yml with .env copied from .env.example (docs/deployment.md)', () => {
  const example = readFileSync(join(repoRoot, '.env.example'), 'utf8');
  const loaders = { gateway: loadGatewayEnv, 'agent-worker': loadAgentEnv, 'tts-worker': loadTtsEnv };

  it.each(Object.keys(loaders))('gives %s an environment it starts with', (name) => {
    const environment = composeEnvironments(example)[name] as Record<string, string>;
    const load = loaders[name as keyof typeof loaders];
    expect(() => load(environment)).not.toThrow();
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
  });

  it('runs the gateway in dev mode (anonymous learners), reachable from the host', () => {
    const gateway = loadGatewayEnv(composeEnvironments(example).gateway);
    expect(gateway.AUTH_MODE).toBe('dev');
    expect(gateway.HOST).toBe('0.0.0.0');
    expect(gateway.PORT).toBe(8000);
  });

  it('would stop the gateway with AUTH_MODE=jwt and an empty JWT_SECRET (the check is real)', () => {
    const jwt = `${example}\nAUTH_MODE=jwt\nJWT_SECRET=\n`;
    expect(() => loadGatewayEnv(composeEnvironments(jwt).gateway)).toThrow(/JWT_SECRET: required when AUTH_MODE=jwt/);
    const secret = `${example}\nAUTH_MODE=jwt\nJWT_SECRET=k3Q9vX2mZ7pL4wT8rN6yB1cF5hJ0dGsA9eU\n`;
    expect(loadGatewayEnv(composeEnvironments(secret).gateway).AUTH_MODE).toBe('jwt');
  });
});
