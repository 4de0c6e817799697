#!/usr/bin/env node
// `pnpm check [redis|llm|tts]`: checks the services XiaoYue depends on, with the configuration
// `pnpm start` uses (the environment over the checkout's `.env`). Without REDIS_URL (or
// REDIS_CLUSTER_NODES / REDIS_SENTINELS) it checks the Redis `pnpm start` started, or whether it
// could start one. No LLM configured is information (offline practice mode), not a failure.
// Exit 0 unless something would break the system as configured.
// `llm` checks the configured provider (Gemini or an OpenAI-compatible server); `gemini` insists on Gemini.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  configuredRedis,
  loadConfig,
  localRedisDir,
  portIsFree,
  preferredRedisPort,
  readRedisState,
  redisServerVersion,
  root,
  runningLocalRedis,
  shortPath,
} from './local-config.mjs';

const CHECKS = { redis: 'gateway', llm: 'agent-worker', tts: 'tts-worker', gemini: 'agent-worker' };
const DEFAULT_CHECKS = ['redis', 'llm', 'tts'];
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in CHECKS));
if (unknown.length > 0) {
  console.error(`unknown check: ${unknown.join(', ')} (choose from: ${Object.keys(CHECKS).join(', ')})`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : DEFAULT_CHECKS;
const { env, envFile } = loadConfig();
if (envFile) console.log(`configuration: the environment over ${shortPath(envFile)}`);

/** Runs a service's own check (`services/<service>/dist/check.js <name>`) with `checkEnv`. */
function serviceCheck(name, checkEnv = env) {
  const entry = join(root, 'services', CHECKS[name], 'dist', 'check.js');
  if (!existsSync(entry)) {
    console.log(`FAIL ${name}: ${entry} is missing; run "pnpm build" first`);
    return false;
  }
  return spawnSync(process.execPath, [entry, name], { stdio: 'inherit', env: checkEnv }).status === 0;
}

/** The Redis the system uses: the configured one, else the one `pnpm start` started or would start. */
async function checkRedis() {
  if (configuredRedis(env)) return serviceCheck('redis');
  const dir = localRedisDir(env);
  const running = runningLocalRedis(dir);
  if (running) {
    console.log(
      `  (no REDIS_URL: the Redis pnpm start runs for this checkout, pid ${running.redisPid}, data in ${shortPath(dir)})`,
    );
    return serviceCheck('redis', { ...env, REDIS_URL: `redis://127.0.0.1:${running.port}` });
  }
  const version = redisServerVersion();
  if (!version) {
    console.log(
      'FAIL redis: no REDIS_URL, and redis-server is not installed, so pnpm start cannot start one (apt-get install redis-server, brew install redis), or set REDIS_URL',
    );
    return false;
  }
  if (Number(version.split('.')[0]) < 7) {
    console.log(`FAIL redis: redis-server ${version} is installed; XiaoYue needs Redis 7 or later (sharded pub/sub)`);
    return false;
  }
  let port;
  try {
    port = preferredRedisPort(env, readRedisState(dir));
  } catch (error) {
    console.log(`FAIL redis: ${error.message}`);
    return false;
  }
  const where = (await portIsFree(port))
    ? `127.0.0.1:${port}`
    : `a free port (${port} is taken by a program this checkout did not start)`;
  console.log(
    `PASS redis: not running yet; pnpm start will start redis-server ${version} on ${where}, data in ${shortPath(dir)} (no REDIS_URL set)`,
  );
  return true;
}

/** An LLM check, unless none is configured: offline practice mode is information, not a failure. */
async function checkLlm(name) {
  if (name === 'llm') {
    const envModule = join(root, 'services', 'agent-worker', 'dist', 'env.js');
    if (existsSync(envModule)) {
      const { loadAgentEnv, llmProviderOf } = await import(pathToFileURL(envModule).href);
      let provider;
      try {
        provider = llmProviderOf(loadAgentEnv(env));
      } catch {
        // a bad value: the agent's own check names it
      }
      if (provider === 'offline') {
        console.log(
          'INFO llm: no LLM configured: the agents run the offline practice tutor (set GEMINI_API_KEY, or LLM_PROVIDER=openai with OPENAI_MODEL, for the real tutor)',
        );
        return true;
      }
    }
  }
  return serviceCheck(name);
}

const results = [];
for (const name of names) {
  if (name === 'redis') results.push(await checkRedis());
  else if (name === 'llm' || name === 'gemini') results.push(await checkLlm(name));
  else results.push(serviceCheck(name));
}
if (names.length > 1) console.log(`${results.filter(Boolean).length} of ${names.length} checks passed`);
process.exit(results.every(Boolean) ? 0 : 1);
