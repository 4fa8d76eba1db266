// `npm start -- --scale`: the topology past one machine, shown on one: a cluster of three brokers
// (its own state folder and ports, beside the default one-broker cluster), the science log on it
// (SCIENCE_STORE=kafka, replication 3, min ISR 2), two distribution instances in one consumer
// group, a simulated night written to the log in steps while they run, one instance SIGKILLed
// halfway (a crash, not a polite exit: the survivor takes its partitions over once the group's
// session times out), and every alert read back once from distribution_test at read_committed.
// Each run starts afresh: the scale cluster's state folder is its own, and removed first.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SURVEYS } from '../src/alert/survey.ts';
import { FetchIsolationLevels } from '@platformatic/kafka';
import { parseAvroType, type AvroType } from '../src/avro/schema.ts';
import { NODE_FLAGS } from '../src/cli/runtime.ts';
import { loadConfig } from '../src/config/config.ts';
import { closeQuietly, kafkaClientOptions, type KafkaConnection } from '../src/kafka/client-options.ts';
import { errorIds } from '../src/kafka/errors.ts';
import { newPartitionReader, readTopic } from '../src/kafka/topic-reader.ts';
import { scienceTopic } from '../src/sciencedb/log-format.ts';
import { groupObserver, partitionLags } from '../src/sciencedb/log-lag.ts';

const GROUP = 'fink-scale';
const NIGHT = '20261126';
/**
 * The night's steps: [survey, profile, count, seed]. The first BEFORE of them make both survey
 * topics before the instances start; one instance is killed after KILL_AFTER steps, halfway.
 */
const STEPS: Array<[string, string, number, number]> = [
  ['ztf', 'ztf', 300, 11], ['lsst', 'lsst', 100, 12], ['ztf', 'ztf', 400, 13], ['ztf', 'ztf', 400, 14],
  ['lsst', 'lsst', 100, 15], ['ztf', 'ztf', 400, 16], ['ztf', 'ztf', 300, 17],
];
const BEFORE = 2;
const KILL_AFTER = 4;
const DEADLINE_MS = 600_000;

function scaleEnv(root: string): Record<string, string> {
  return {
    KAFKA_STATE_DIR: join(root, 'var', 'kafka-scale'),
    // Three nodes on this host: clients on 9392, 9394, 9396 (controllers on the ports after).
    DISTRIBUTION_SERVERS: '127.0.0.1:9392,127.0.0.1:9394,127.0.0.1:9396',
    SCIENCE_STORE: 'kafka',
    DISTRIBUTION_REPLICATION: '3',
    DISTRIBUTION_MIN_ISR: '2',
    DISTRIBUTION_GROUP: GROUP,
    DISTRIBUTION_STATE_DIR: join(root, 'var', 'scale', 'state'),
    DISTRIBUTION_SCHEMA: join(root, 'var', 'scale', 'schemas', 'distribution_schema.avsc'),
  };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function failed(what: string, status: number | null, signal: string | null): never {
  process.stderr.write(`\nnpm start -- --scale: step '${what}' failed (exit ${status ?? signal}).\n`);
  process.exit(status ?? 1);
}

function step(root: string, env: NodeJS.ProcessEnv, what: string, command: string, args: string[]): void {
  say(`\n== ${what}: ${command} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [...NODE_FLAGS, join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit', env });
  if (result.status !== 0) failed(what, result.status, result.signal);
}

/** A step run while the script watches something else (the instances' logs). */
async function stepAsync(root: string, env: NodeJS.ProcessEnv, what: string, command: string, args: string[]): Promise<void> {
  say(`\n== ${what}: ${command} ${args.join(' ')}`);
  const child = spawn(process.execPath, [...NODE_FLAGS, join(root, 'bin', `${command}.ts`), ...args], { stdio: 'inherit', env });
  const [status, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])));
  if (status !== 0) failed(what, status, signal);
}

interface Instance {
  id: string;
  log: string;
  pid: number;
  running: () => boolean;
  exited: Promise<number | null>;
}

function startInstance(root: string, env: NodeJS.ProcessEnv, id: string): Instance {
  const log = join(root, 'var', 'scale', `${id}.log`);
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, [...NODE_FLAGS, join(root, 'bin', 'fink.ts'), 'start', 'distribution', '--group', GROUP], { stdio: ['ignore', out, out], env: { ...env, DISTRIBUTION_ID: id } });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  say(`   ${id}: pid ${child.pid}, its log in ${log}`);
  return { id, log, pid: child.pid!, running: () => child.exitCode === null && child.signalCode === null, exited };
}

/** The partitions of an instance's last 'group joined' line. */
function assignment(instance: Instance): string[] {
  const text = existsSync(instance.log) ? readFileSync(instance.log, 'utf8') : '';
  const last = [...text.matchAll(/msg="group joined".* partitions="?([^"\s]*)"?/g)].at(-1)?.[1];
  return last === undefined || last === '' ? [] : last.split(',');
}

async function until(what: string, check: () => boolean | Promise<boolean>, everyMs = 500): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > DEADLINE_MS) throw new Error(`waited ${DEADLINE_MS / 1000} s for ${what}`);
    await sleep(everyMs);
  }
  return (Date.now() - started) / 1000;
}

/** Waits until the group's lag over the science log is zero and stays so for 3 s. */
async function caughtUp(connection: KafkaConnection, prefix: string): Promise<void> {
  const { reader, committed } = groupObserver(connection, GROUP, 'fink-scale-lag');
  const topics = SURVEYS.map((survey) => scienceTopic(prefix, survey));
  try {
    let zeroSince: number | undefined;
    let last = -1n;
    let unstable = false;
    await until('the group\'s lag to reach 0', async () => {
      let lag: bigint;
      try {
        lag = (await partitionLags(connection, reader, committed, topics)).reduce((sum, p) => sum + p.lag, 0n);
      } catch (err) {
        // Offsets in a transaction still open (fink-scale-a's last, until its transaction timeout) are not read; asked again.
        if (!errorIds(err).includes('UNSTABLE_OFFSET_COMMIT')) throw err;
        if (!unstable) say('   the group\'s offsets are not stable yet: a transaction that commits some is still open (fink-scale-a\'s last, aborted at its 30 s timeout)');
        unstable = true;
        return false;
      }
      if (lag !== last) say(`   the group's lag: ${lag} records`);
      last = lag;
      zeroSince = lag === 0n ? (zeroSince ?? Date.now()) : undefined;
      return zeroSince !== undefined && Date.now() - zeroSince >= 3000;
    }, 1000);
  } finally {
    await closeQuietly(reader);
  }
}

/**
 * Waits until no transaction is open on `topic` (its stable ends meet its ends): the SIGKILLed
 * instance's last transaction stays open until its coordinator aborts it at the transaction
 * timeout (30 s), and read_committed readers see nothing past its first record meanwhile.
 */
async function noOpenTransaction(connection: KafkaConnection, topic: string): Promise<void> {
  const reader = newPartitionReader(connection, 'fink-scale-check');
  try {
    const waited = await until(`no transaction open on ${topic}`, async () => {
      const stable = (await reader.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic) ?? [];
      const high = (await reader.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED })).get(topic) ?? [];
      return stable.every((o, p) => o === high[p]);
    }, 1000);
    say(`   no transaction open on ${topic}${waited < 1 ? '' : ` after ${waited.toFixed(1)} s (fink-scale-a's last one, aborted at its 30 s transaction timeout)`}`);
  } finally {
    await closeQuietly(reader);
  }
}

/** Every alert of the test topic at read_committed: how many messages, how many distinct alerts. */
async function readBack(connection: KafkaConnection, topic: string): Promise<{ messages: number; alerts: number }> {
  const types = new Map<string, AvroType>();
  const seen = new Set<string>();
  let messages = 0;
  for await (const m of readTopic(connection, topic, { partitionMaxBytes: 16 << 20 })) {
    if (m.value === null || m.key === null) continue;
    messages++;
    const key = m.key.toString('utf8');
    let type = types.get(key);
    if (type === undefined) types.set(key, (type = parseAvroType(JSON.parse(key) as never)));
    const alert = type.fromBuffer(m.value) as { candid?: bigint; diaSource?: { diaSourceId: bigint } };
    seen.add(alert.candid !== undefined ? `ztf:${alert.candid}` : `lsst:${alert.diaSource?.diaSourceId}`);
  }
  return { messages, alerts: seen.size };
}

function fresh(root: string, env: NodeJS.ProcessEnv): void {
  const state = env.KAFKA_STATE_DIR!;
  if (existsSync(state)) {
    step(root, env, 'a fresh start: the previous scale cluster stopped, its state removed', 'fink_kafka', ['stop']);
    rmSync(state, { recursive: true, force: true });
  }
  rmSync(join(root, 'var', 'scale'), { recursive: true, force: true });
  mkdirSync(join(root, 'var', 'scale'), { recursive: true });
}

/** Writes step i of the night to the science log. */
async function night(root: string, env: NodeJS.ProcessEnv, i: number): Promise<number> {
  const [survey, profile, count, seed] = STEPS[i]!;
  await stepAsync(root, env, `the night, step ${i + 1} of ${STEPS.length}: ${count} ${survey} alerts into the science log`, 'fink', ['simulate', '--survey', survey, '--profile', profile, '--count', String(count), '--seed', String(seed), '--night', NIGHT]);
  return count;
}

/** The two instances: both holding partitions, the night flowing, one SIGKILLed halfway, the other taking over and catching up. */
async function group(root: string, env: NodeJS.ProcessEnv, connection: KafkaConnection, prefix: string): Promise<number> {
  let written = 0;
  for (let i = 0; i < BEFORE; i++) written += await night(root, env, i);
  say(`\n== two distribution instances in group ${GROUP}: fink start distribution --group ${GROUP} (DISTRIBUTION_ID fink-scale-a and fink-scale-b)`);
  const a = startInstance(root, env, 'fink-scale-a');
  const b = startInstance(root, env, 'fink-scale-b');
  try {
    const joined = await until('both instances to hold partitions', () => assignment(a).length > 0 && assignment(b).length > 0);
    say(`   both hold partitions after ${joined.toFixed(1)} s: fink-scale-a ${assignment(a).length}, fink-scale-b ${assignment(b).length}`);
    for (let i = BEFORE; i < KILL_AFTER; i++) written += await night(root, env, i);
    say(`\n== halfway: fink-scale-a SIGKILLed (pid ${a.pid}), as a crash; fink-scale-b takes its partitions once the group's session (10 s) times out`);
    const held = assignment(b).length;
    process.kill(a.pid, 'SIGKILL');
    await a.exited;
    const takeover = until('fink-scale-b to hold every partition', () => assignment(b).length > held).then((s) => say(`   fink-scale-b holds all ${assignment(b).length} partitions, ${s.toFixed(1)} s after the SIGKILL`));
    for (let i = KILL_AFTER; i < STEPS.length; i++) written += await night(root, env, i);
    await takeover;
    say(`\n== the group catching up: its lag over the science log, until 0 for 3 s`);
    await caughtUp(connection, prefix);
    say(`\n== fink-scale-b stopped (SIGTERM): it leaves the group`);
    process.kill(b.pid, 'SIGTERM');
    say(`   exit ${await b.exited}`);
  } finally {
    for (const instance of [a, b]) if (instance.running()) process.kill(instance.pid, 'SIGKILL');
  }
  return written;
}

export async function runScale(root: string): Promise<number> {
  const started = Date.now();
  const env = { ...process.env, ...scaleEnv(root) };
  const config = loadConfig({ env });
  const connection = kafkaClientOptions(config);
  fresh(root, env);
  step(root, env, 'three brokers on this host', 'fink_kafka', ['start', '--brokers', '3']);
  step(root, env, 'the test topic, on three replicas', 'fink_kafka', ['--create-topic', 'distribution_test']);
  const written = await group(root, env, connection, config.get('SCIENCE_TOPIC_PREFIX') ?? '');
  step(root, env, 'the science log', 'fink', ['db', 'stats']);
  say(`\n== every alert read back: distribution_test at read_committed`);
  await noOpenTransaction(connection, 'distribution_test');
  const { messages, alerts } = await readBack(connection, 'distribution_test');
  say(`   ${messages} messages, ${alerts} distinct alerts; ${written} alerts written to the science log`);
  const ok = messages === written && alerts === written;
  say(ok ? '   every alert once' : `   NOT every alert once: ${messages} messages and ${alerts} distinct alerts for ${written} written`);
  const cluster = `KAFKA_STATE_DIR=var/kafka-scale DISTRIBUTION_SERVERS=${env.DISTRIBUTION_SERVERS}`;
  say(`\n${ok ? 'Done' : 'Failed'} in ${((Date.now() - started) / 1000).toFixed(0)} s. The scale cluster is still running (${cluster} npx fink_kafka status);`);
  say(`stop it with: ${cluster} npx fink_kafka stop`);
  say(`See the log's rates and the group's lag: ${cluster} SCIENCE_STORE=kafka DISTRIBUTION_GROUP=${GROUP} DISTRIBUTION_SCHEMA=var/scale/schemas/distribution_schema.avsc npx fink start console`);
  return ok ? 0 : 1;
}
