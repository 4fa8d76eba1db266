// `node bench/user-conditions.ts [--survey lsst|ztf] [--alerts N] [--conditions C] [--rounds R] [--seed S] [--rare]`
//
// The micro-benchmark of user filters' conditions (issue 23): C random selective conditions
// (bench/random-conditions.ts) compiled once, then each evaluated on the typed fields of N
// simulated alerts, R rounds; the figure is the CPU time per alert per condition (nanoseconds),
// the median of the rounds, beside how selective the conditions were. Each alert's row of fields
// (src/userfilter/row.ts) is built once and shared by all the conditions, its cost included. The fields are those the
// distribution hands its filters (read back from a science database), so nothing is decoded here:
// what is measured is the compiled condition alone, the part that 100 registered filters add to
// the distribution's CPU per alert (the budget: 1.10x that of none). --rare: conditions
// that keep a few alerts in a thousand each (random-conditions.ts), as the distribution's case uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Survey } from '../src/alert/survey.ts';
import { openReader, type StoredAlert } from '../src/sciencedb/reader.ts';
import { simulateIntoDb } from '../src/sciencedb/simulate.ts';
import { compileCondition } from '../src/userfilter/condition.ts';
import { rowOf } from '../src/userfilter/row.ts';
import { randomConditions } from './random-conditions.ts';

const { values } = parseArgs({
  options: {
    survey: { type: 'string', default: 'lsst' }, alerts: { type: 'string', default: '5000' },
    conditions: { type: 'string', default: '100' }, rounds: { type: 'string', default: '7' }, seed: { type: 'string', default: '1' },
    rare: { type: 'boolean', default: false },
  },
});
const survey = values.survey as Survey;
if (survey !== 'ztf' && survey !== 'lsst') throw new Error(`--survey is ztf or lsst, got '${values.survey}'`);
const [alertCount, conditionCount, rounds, seed] = [values.alerts, values.conditions, values.rounds, values.seed].map(Number) as [number, number, number, number];

function storedAlerts(): StoredAlert[] {
  const dir = mkdtempSync(join(tmpdir(), 'fink-bench-conditions-'));
  try {
    simulateIntoDb(dir, { profile: survey === 'lsst' ? 'lsst-light' : 'ztf-light', seed, night: '20260101' }, alertCount);
    const reader = openReader(dir);
    try {
      return reader.read({}, alertCount).alerts;
    } finally {
      reader.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fields = storedAlerts().map((a) => a.fields as unknown as Readonly<Record<string, unknown>>);
const texts = randomConditions(survey, fields, conditionCount, seed, values.rare);
const conditions = texts.map((t) => compileCondition(t, survey));

let matched = 0;
const perRound: number[] = [];
for (let round = 0; round < rounds + 1; round++) {
  let hits = 0;
  const start = process.cpuUsage();
  // One row per alert, shared by all the conditions (as the distribution will): its cost is counted.
  for (const f of fields) {
    const row = rowOf(survey, f);
    for (const c of conditions) if (c.testRow(row)) hits++;
  }
  const used = process.cpuUsage(start);
  // The first round warms the closures up (and is not counted).
  if (round > 0) perRound.push(((used.user + used.system) * 1000) / (fields.length * conditions.length));
  matched = hits;
}
perRound.sort((a, b) => a - b);
const median = perRound[Math.floor(perRound.length / 2)]!;
process.stdout.write(`${conditionCount} random conditions over ${fields.length} ${survey} alerts (seed ${seed}), ${rounds} rounds\n`);
process.stdout.write(`  e.g. ${texts.slice(0, 3).join('\n       ')}\n`);
process.stdout.write(`  selectivity: ${((100 * matched) / (fields.length * conditions.length)).toFixed(2)}% of alert-condition pairs match\n`);
process.stdout.write(`  CPU per alert per condition: median ${median.toFixed(1)} ns (rounds ${perRound.map((n) => n.toFixed(1)).join(', ')})\n`);
process.stdout.write(`  CPU per alert for all ${conditionCount}: ${((median * conditionCount) / 1000).toFixed(2)} µs\n`);
