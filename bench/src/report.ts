import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@xiaoyue/test-support';

/** One figure of the benchmark, beside a baseline measured in the same run. */
export interface Row {
  id: string;
  what: string;
  result: string;
  baseline: string;
  target: string;
  met: boolean | null;
  data: Record<string, unknown>;
}

/** What every scenario gets: the run's Redis and whether this is a short (`--quick`) run. */
export interface BenchContext {
  redisUrl: string;
  quick: boolean;
  /** Whether a figure was asked for (`--only P1,P3`). */
  wanted(id: string): boolean;
}

export interface Scenario {
  /** The figures it measures. */
  ids: string[];
  run(context: BenchContext): Promise<Row[]>;
}

/** Prints the table and writes it to bench/results (`latest.md` and a timestamped JSON). */
export function writeReport(rows: Row[], quick: boolean): void {
  const lines = [
    '| id | what | result | baseline (same run) | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.what} | ${r.result} | ${r.baseline} | ${r.target} | ${r.met === null ? '–' : r.met ? 'yes' : 'NO'} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  const results = join(repoRoot, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  const file = join(results, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), quick, rows }, null, 2));
  writeFileSync(join(results, 'latest.md'), `${lines.join('\n')}\n`);
  console.log(`results: ${file}`);
}
