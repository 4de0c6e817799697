#!/usr/bin/env node
// `pnpm check [redis|llm|tts]`: checks the services XiaoYue depends on, with the same
// configuration (environment variables) the services use. Exit 0 when every check passes.
// `llm` checks the configured provider (Gemini or an OpenAI-compatible server); `gemini` insists on Gemini.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHECKS = { redis: 'gateway', llm: 'agent-worker', tts: 'tts-worker', gemini: 'agent-worker' };
const DEFAULT_CHECKS = ['redis', 'llm', 'tts'];
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in CHECKS));
if (unknown.length > 0) {
  console.error(`unknown check: ${unknown.join(', ')} (choose from: ${Object.keys(CHECKS).join(', ')})`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : DEFAULT_CHECKS;

const results = names.map((name) => {
  const entry = join(root, 'services', CHECKS[name], 'dist', 'check.js');
  if (!existsSync(entry)) {
    console.log(`FAIL ${name}: ${entry} is missing; run "pnpm build" first`);
    return false;
  }
  return spawnSync(process.execPath, [entry, name], { stdio: 'inherit', env: process.env }).status === 0;
});
if (names.length > 1) console.log(`${results.filter(Boolean).length} of ${names.length} checks passed`);
process.exit(results.every(Boolean) ? 0 : 1);
