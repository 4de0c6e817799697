// `pnpm bench`: XiaoYue's speed and memory, each figure beside a baseline measured in the same run.
//   pnpm bench [--only P1,P3] [--quick]
// Starts its own redis-server; each scenario starts what it measures (the local Gemini/Edge fakes
// with latencies as parameters, the real services as processes); prints a table and writes JSON to
// bench/results/.
import { spawnRedisServer } from '@xiaoyue/test-support';
import { type Row, type Scenario, writeReport } from './report.js';
import { firstAudio } from './scenarios/first-audio.js';
import { idleSockets } from './scenarios/idle-sockets.js';
import { offlineVoice } from './scenarios/offline-voice.js';
import { progressAtScale } from './scenarios/progress-at-scale.js';
import { redisCommands } from './scenarios/redis-commands.js';
import { shardBalance } from './scenarios/shard-balance.js';
import { speechCache } from './scenarios/speech-cache.js';
import { turns } from './scenarios/turns.js';

const scenarios: Scenario[] = [
  speechCache,
  turns,
  firstAudio,
  idleSockets,
  progressAtScale,
  redisCommands,
  shardBalance,
  offlineVoice,
];

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : undefined;
  const wanted = (id: string) => !only || only.includes(id);
  const redis = await spawnRedisServer();
  console.log(`bench: redis ${redis.url}${quick ? ' (quick run)' : ''}`);
  const rows: Row[] = [];
  try {
    for (const scenario of scenarios) {
      if (scenario.ids.some(wanted)) rows.push(...(await scenario.run({ redisUrl: redis.url, quick, wanted })));
    }
  } finally {
    await redis.stop();
  }
  writeReport(rows, quick);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
