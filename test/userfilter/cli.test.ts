// `fink filter fields` and `fink filter test` as a user runs them: on a science database that
// `fink ingest` filled with the real alerts of ../shared/data and simulated ones, the count of
// matching alerts compared with the same condition evaluated independently on the source files;
// the exit codes (0, 2 for a condition that is not valid, with one line); nothing published.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { decodeIndependently, FINK_DATA, haveRealData, realDataPresent, ZTF_DATA } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';

type Rec = Record<string, unknown>;

interface TestAnswer {
  survey: string;
  night: string | null;
  alerts: number;
  matched: number;
  failed: number;
  shown: { id: string; object: string; night: string }[];
}

const root = tempDir('userfilter-cli');
const env = { SCIENCE_DB_PATH: join(root, 'science') };
const NIGHT = '20260101';

async function decodeFolders(dirs: string[]): Promise<Rec[]> {
  const alerts: Rec[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.avro')).sort()) alerts.push(...(await decodeIndependently(join(dir, name))).values);
  }
  return alerts;
}

const num = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const brightG = (a: Rec) => { const c = a.candidate as Rec; return num(c.magpsf) && c.magpsf < 18 && c.fid === 1; };
const brightRubin = (a: Rec) => { const s = a.diaSource as Rec; return num(s.psfFlux) && s.psfFlux > 10000 && (s.band === 'g' || s.band === 'r'); };

function filterTest(args: string[], input?: string) {
  return runCli('fink', ['filter', 'test', ...args], env, input);
}

function answer(args: string[]): TestAnswer {
  const run = filterTest([...args, '--json']);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as TestAnswer;
}

describe('fink filter', () => {
  let ztf = new Map<bigint, Rec>();
  let simulatedZtf: Rec[] = [];
  let lsst: Rec[] = [];
  before(async () => {
    const sims: Record<string, string> = {};
    for (const [survey, profile] of [['ztf', 'ztf-light'], ['lsst', 'lsst-light']] as const) {
      sims[survey] = join(root, 'sim', survey);
      const run = runCli('fink', ['simulate', '--survey', survey, '--profile', profile, '--count', '300', '--seed', '5', '--night', NIGHT, '--out', sims[survey]], env);
      assert.equal(run.status, 0, run.stderr);
    }
    const real = realDataPresent() ? [ZTF_DATA, FINK_DATA] : [];
    const ingest = runCli('fink', ['ingest', ...real, sims.ztf!, sims.lsst!], env);
    assert.equal(ingest.status, 0, ingest.stderr);
    simulatedZtf = await decodeFolders([sims.ztf!]);
    // One stored alert per candid, as the store keeps them.
    ztf = new Map((await decodeFolders([...real, sims.ztf!])).map((a) => [a.candid as bigint, a]));
    lsst = await decodeFolders([sims.lsst!]);
  });

  test('test: as many ZTF alerts match as the condition evaluated independently on the ingested files', (t) => {
    if (!haveRealData(t)) return;
    const got = answer(['--survey', 'ztf', '--where', 'magpsf < 18 AND fid = 1', '--limit', '1000']);
    const want = [...ztf.values()].filter(brightG);
    assert.equal(got.alerts, ztf.size);
    assert.ok(want.length > 0 && want.length < ztf.size, `a selective condition: ${want.length} of ${ztf.size}`);
    assert.equal(got.matched, want.length);
    assert.equal(got.failed, 0);
    assert.deepEqual(got.shown.map((s) => s.id).sort(), want.map((a) => String(a.candid)).sort());
    for (const s of got.shown) assert.equal(s.object, ztf.get(BigInt(s.id))!.objectId);
  });

  test('test: the same for Rubin alerts, ids and objects shown', () => {
    const got = answer(['--survey', 'lsst', '--where', "psfFlux > 10000 AND band IN ('g', 'r')", '--limit', '3']);
    const want = lsst.filter(brightRubin);
    assert.equal(got.alerts, lsst.length);
    assert.ok(want.length > 3 && want.length < lsst.length);
    assert.equal(got.matched, want.length);
    assert.equal(got.shown.length, 3, '--limit 3 shows 3');
    const ids = new Set(want.map((a) => String((a.diaSource as Rec).diaSourceId)));
    for (const s of got.shown) assert.ok(ids.has(s.id), `${s.id} is one of the matching alerts`);
  });

  test('test --night: only the alerts of that night are read', () => {
    const got = answer(['--survey', 'ztf', '--where', 'magpsf < 18 AND fid = 1', '--night', NIGHT]);
    assert.equal(got.alerts, simulatedZtf.length);
    assert.equal(got.matched, simulatedZtf.filter(brightG).length);
    assert.ok(got.shown.every((s) => s.night === NIGHT));
    assert.equal(answer(['--survey', 'ztf', '--where', 'TRUE', '--night', '19990101']).alerts, 0, 'a night that is not stored has no alerts');
  });

  test('test: a shipped filter refined by a condition, printed as text, nothing published', () => {
    const run = filterTest(['--survey', 'ztf', '--where', 'NOT sso_candidates AND magpsf < 18', '--limit', '2']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^\d+ of \d+ ztf alerts match \(all nights\); nothing was published\n/);
    assert.match(run.stdout, /\ncandid +object +night\n\d+ +ZTF\w+ +\d{8}\n/);
    assert.equal(run.stderr, '');
  });

  test('fields: the names with types and units, and the shipped filters as tests', () => {
    const run = runCli('fink', ['filter', 'fields', '--survey', 'ztf'], env);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /\n {2}magpsf +number +mag +PSF-fit magnitude/);
    assert.match(run.stdout, /\n {2}candid +id /);
    assert.match(run.stdout, /\n {2}early_sn_candidates +boolean/);
    assert.doesNotMatch(run.stdout, /solar_system/, "Rubin's filters are not ZTF's names");
    const json = runCli('fink', ['filter', 'fields', '--survey', 'lsst', '--json'], env);
    assert.equal(json.status, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { fields: { name: string; type: string; unit: string }[]; predicates: { name: string }[]; functions: string[] };
    const psfFlux = parsed.fields.find((f) => f.name === 'psfFlux');
    assert.deepEqual([psfFlux?.type, psfFlux?.unit], ['number', 'nJy']);
    assert.ok(parsed.predicates.some((p) => p.name === 'solar_system'));
    assert.ok(parsed.functions.includes('log10'));
  });

  test('a condition that is not valid exits 2 with one line saying where, and prints nothing on stdout', () => {
    const cases: [string, RegExp][] = [
      ['magpfs < 18', /^fink: condition at column 1 \(\{here\}magpfs < 18\): unknown name 'magpfs' \(did you mean 'magpsf'\?\)/],
      ["cdsxmatch = 18", /cannot compare a string with a number/],
      ['abs(magpsf, 2) > 1', /abs takes 1 argument, got 2/],
      ['1=1; DROP TABLE alerts', /column 4 .*';' is not part of a condition/],
      ['alert.constructor', /column 6 .*'\.' is not part of a condition/],
      ['constructor.name', /column 12 /],
      [`${'('.repeat(100)}TRUE${')'.repeat(100)}`, /nests deeper than 32 levels/],
      [`cdsxmatch = '${'x'.repeat(100_000)}'`, /the condition is 100014 characters long, at most 4096/],
    ];
    for (const [where, reason] of cases) {
      const run = filterTest(['--survey', 'ztf', '--where', where]);
      assert.equal(run.status, 2, `${where.slice(0, 40)}: ${run.stderr}`);
      assert.match(run.stderr, reason);
      assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr.slice(0, 300)}`);
      assert.equal(run.stdout, '');
    }
  });

  test('a megabyte condition on standard input (--where -) exits 2 with one line', () => {
    const run = filterTest(['--survey', 'ztf', '--where', '-'], `magpsf < 18 AND cdsxmatch = '${'A'.repeat(1 << 20)}'`);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^fink: the condition on standard input is longer than 4096 characters\n/);
    const small = filterTest(['--survey', 'ztf', '--where', '-', '--night', NIGHT, '--json'], 'magpsf < 18 AND fid = 1\n');
    assert.equal(small.status, 0, small.stderr);
    assert.equal((JSON.parse(small.stdout) as TestAnswer).matched, simulatedZtf.filter(brightG).length);
  });

  test('wrong flags exit 2', () => {
    for (const args of [['test', '--where', 'TRUE'], ['test', '--survey', 'hsc', '--where', 'TRUE'], ['test', '--survey', 'ztf'], ['test', '--survey', 'ztf', '--where', 'TRUE', '--night', '2026-01-01'], ['fields', '--survey', 'ztf', '--where', 'TRUE'], ['remove'], []]) {
      const run = runCli('fink', ['filter', ...args], env);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    }
    const help = runCli('fink', ['filter', '--help'], env);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /fink filter test --survey ztf\|lsst --where CONDITION/);
  });

  test('test with the science log (SCIENCE_STORE=kafka) and no Kafka to read it: exit 1, saying so', () => {
    const kafka = runCli('fink', ['filter', 'test', '--survey', 'ztf', '--where', 'TRUE'], { ...env, SCIENCE_STORE: 'kafka', DISTRIBUTION_SERVERS: '127.0.0.1:1' });
    assert.equal(kafka.status, 1, kafka.stderr);
    assert.match(kafka.stderr, /^fink: Kafka does not answer at 127\.0\.0\.1:1/);
  });
});
