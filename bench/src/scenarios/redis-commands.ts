import { startFakeEdgeTts, startFakeGemini } from '@xiaoyue/test-support';
import { Redis } from 'ioredis';
import { BENCH_CONNECTION, type CommandBreakdown, recordCommands, topEntries } from '../command-breakdown.js';
import { isReplyWithAudio, Learner } from '../learner.js';
import type { BenchContext, Row, Scenario } from '../report.js';
import { round } from '../stats.js';
import { startBenchSystem } from '../system.js';

export const redisCommands: Scenario = { ids: ['P7'], run };

/** The turn watchdog fires this long after a turn: short, so that its job runs inside the window. */
const TURN_TIMEOUT_MS = 2_000;

/** Calls per command name so far (`INFO commandstats`: commands run by Lua scripts included). */
async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1] as string, Number(match[2]));
  return counts;
}

/** What ran between two readings, per command, less the background (idle workers, renewals) of that time. */
function delta(before: Map<string, number>, after: Map<string, number>, idlePerSecond: number, seconds: number) {
  const byCommand = new Map<string, number>();
  for (const [name, calls] of after) byCommand.set(name, calls - (before.get(name) ?? 0));
  // The reading itself (INFO) is not the system's.
  byCommand.delete('info');
  const total = [...byCommand.values()].reduce((sum, calls) => sum + calls, 0) - idlePerSecond * seconds;
  return { total, byCommand };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * P7 Redis commands per seed-mode and streamed turn (the watchdog job included), per connect and
 * per idle socket-minute, measured on the Redis the services use (issue 12: ≤ 75 per seed turn).
 */
async function run({ redisUrl, quick }: BenchContext): Promise<Row[]> {
  const [gemini, edge] = await Promise.all([startFakeGemini(), startFakeEdgeTts()]);
  const system = await startBenchSystem(redisUrl, gemini, edge, { TURN_TIMEOUT_MS: String(TURN_TIMEOUT_MS) });
  const redis = new Redis(redisUrl, { connectionName: BENCH_CONNECTION });
  const timed = async (work: () => Promise<void>) => {
    const before = await commandCounts(redis);
    const startedAt = performance.now();
    await work();
    return { before, after: await commandCounts(redis), seconds: (performance.now() - startedAt) / 1000 };
  };
  try {
    // The background: workers waiting for jobs, the gateway's lease renewals, nobody connected.
    const idle = await timed(() => sleep(quick ? 5_000 : 15_000));
    const idlePerSecond = delta(idle.before, idle.after, 0, 0).total / idle.seconds;

    const turns = quick ? 20 : 100;
    /** `turns` turns of one learner, then the last one's watchdog. */
    const runTurns = async (stream: boolean, turns: number, name: string) => {
      const learner = await Learner.connect(system.baseUrl, name, { stream });
      const done = stream ? (f: { type: string }) => f.type === 'reply_done' : isReplyWithAudio;
      for (let i = 0; i < turns; i++) await learner.turn(`你好 ${i}`, done);
      await sleep(TURN_TIMEOUT_MS + 1_000); // the last turn's watchdog
      learner.close();
    };
    const perTurn = async (stream: boolean) => {
      const window = await timed(() => runTurns(stream, turns, `p7-${stream ? 'stream' : 'seed'}`));
      const { total, byCommand } = delta(window.before, window.after, idlePerSecond, window.seconds);
      const top = [...byCommand]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([name, calls]) => `${name.toUpperCase()} ${round(calls / turns, 1)}`);
      return { perTurn: total / turns, top };
    };
    const seed = await perTurn(false);
    const streamed = await perTurn(true);

    // Who sends what (MONITOR, on its own window: it slows Redis down), per turn, less the
    // background recorded the same way.
    const breakdownSeconds = quick ? 3 : 10;
    const background = await recordCommands(redisUrl, system.prefix, () => sleep(breakdownSeconds * 1_000));
    const breakdownTurns = quick ? 10 : 30;
    const perBreakdownTurn = async (stream: boolean) => {
      const startedAt = performance.now();
      const recorded = await recordCommands(redisUrl, system.prefix, () =>
        runTurns(stream, breakdownTurns, `p7-breakdown-${stream ? 'stream' : 'seed'}`),
      );
      const seconds = (performance.now() - startedAt) / 1000;
      return describeBreakdown(recorded, breakdownTurns, background, seconds / breakdownSeconds);
    };
    const seedBreakdown = await perBreakdownTurn(false);
    const streamedBreakdown = await perBreakdownTurn(true);
    const backgroundBreakdown = describeBreakdown(background, breakdownSeconds, undefined, 0);
    printBreakdown('seed turn', seedBreakdown);
    printBreakdown('streamed turn', streamedBreakdown);
    printBreakdown('background second', backgroundBreakdown);

    const connects = quick ? 20 : 100;
    const connecting = await timed(async () => {
      for (let i = 0; i < connects; i++) (await Learner.connect(system.baseUrl, `p7-connect-${i}`)).close();
      await sleep(500); // the closes' slot releases
    });
    const perConnect = delta(connecting.before, connecting.after, idlePerSecond, connecting.seconds).total / connects;

    const sockets = quick ? 50 : 200;
    const held = await Promise.all(
      Array.from({ length: sockets }, (_, i) => Learner.connect(system.baseUrl, `p7-idle-${i}`)),
    );
    // Lease renewals run every 30 s and heartbeats every 30 s: a whole minute sees each twice.
    const idleSockets = await timed(() => sleep(quick ? 30_000 : 60_000));
    for (const learner of held) learner.close();
    const perSocketMinute =
      delta(idleSockets.before, idleSockets.after, idlePerSecond, idleSockets.seconds).total /
      sockets /
      (idleSockets.seconds / 60);

    return [
      {
        id: 'P7',
        what: `Redis commands (INFO commandstats, scripts' inner commands included, background subtracted): per turn over ${turns} turns, per connect, per idle socket-minute`,
        result: `seed turn ${round(seed.perTurn, 1)} (top: ${seed.top.join(', ')}); streamed turn ${round(streamed.perTurn, 1)}; connect ${round(perConnect, 1)}; idle socket-minute ${round(perSocketMinute, 2)}`,
        baseline: `background ${round(idlePerSecond, 1)} commands/s with nobody connected`,
        target: '≤ 75 per seed turn (issue 12)',
        met: seed.perTurn <= 75,
        data: {
          seed,
          streamed,
          perConnect,
          perSocketMinute,
          idlePerSecond,
          turns,
          connects,
          sockets,
          breakdown: {
            turns: breakdownTurns,
            seed: seedBreakdown,
            streamed: streamedBreakdown,
            background: backgroundBreakdown,
          },
        },
      },
    ];
  } finally {
    redis.disconnect();
    await system.stop();
    await Promise.all([gemini.close(), edge.close()]);
  }
}

/** A recorded window per unit (a turn, a second), less `background` scaled by `backgroundWindows`. */
function describeBreakdown(
  recorded: CommandBreakdown,
  units: number,
  background: CommandBreakdown | undefined,
  backgroundWindows: number,
) {
  const less = (map: Map<string, number>, base: Map<string, number> | undefined) =>
    new Map([...map].map(([key, calls]) => [key, calls - (base?.get(key) ?? 0) * backgroundWindows]));
  const per = (map: Map<string, number>, base: Map<string, number> | undefined) =>
    Object.fromEntries(topEntries(less(map, base), units, 80).map(([key, calls]) => [key, round(calls, 1)]));
  return {
    total: round((recorded.total - (background?.total ?? 0) * backgroundWindows) / units, 1),
    byConnection: per(recorded.byConnection, background?.byConnection),
    byPurpose: per(recorded.byPurpose, background?.byPurpose),
    byConnectionAndPurpose: per(recorded.byConnectionAndPurpose, background?.byConnectionAndPurpose),
    byPurposeAndCommand: per(recorded.byPurposeAndCommand, background?.byPurposeAndCommand),
  };
}

function printBreakdown(unit: string, breakdown: ReturnType<typeof describeBreakdown>): void {
  console.log(`\nP7 breakdown per ${unit} (MONITOR): ${breakdown.total}`);
  console.log('  by connection:', breakdown.byConnection);
  console.log('  by connection and purpose:', breakdown.byConnectionAndPurpose);
  if (process.env.P7_COMMANDS) console.log('  by purpose and command:', breakdown.byPurposeAndCommand);
}
