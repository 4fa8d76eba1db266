// `fink start stream2science [--reset-to DATE|earliest|latest] [--until-caught-up] [--instance ID] [--replay-dead-letters]`
import { commandArgs } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import { openStore } from '../../src/sciencedb/open-store.ts';
import { runService } from '../../src/service/run.ts';
import { STREAM2SCIENCE_SERVICE } from '../../src/service/services.ts';
import { deadLetterFile } from '../../src/upstream/dead-letters.ts';
import { applyStream2ScienceHeapFlags } from '../../src/upstream/heap.ts';
import { Stream2ScienceMetrics } from '../../src/upstream/metrics.ts';
import { parseResetTarget } from '../../src/upstream/offsets.ts';
import { replayDeadLetters } from '../../src/upstream/replay.ts';
import { runStream2Science } from '../../src/upstream/service.ts';
import { stream2scienceSettings } from '../../src/upstream/settings.ts';
import { storeDescription } from '../../src/upstream/store.ts';

const USAGE = `usage: fink start stream2science [--reset-to DATE|earliest|latest] [--until-caught-up] [--instance ID] [--conf FILE]
       fink start stream2science --replay-dead-letters [--conf FILE]

Consumes the survey's stream (UPSTREAM_SERVERS, the topics of UPSTREAM_TOPICS: names or patterns
such as ztf_.*, new topics picked up as they appear) into the science store: the SQLite nights at
SCIENCE_DB_PATH, or with SCIENCE_STORE=kafka the science log on the cluster at DISTRIBUTION_SERVERS.
UPSTREAM_FORMAT says how messages are framed: ztf (an Avro container file each) or lsst (Confluent
wire format, schemas from UPSTREAM_SCHEMA_REGISTRY, cached on disk). Exactly once: the upstream
positions are committed in the transaction of the alerts they carry (SQLite: the night's file; the
log: the compacted topic UPSTREAM_POSITIONS_TOPIC, in the Kafka transaction of transactional id
fink-stream2science-<UPSTREAM_GROUP_ID>, so a second instance of the group fences the first), and a
restart resumes from them. A message that does not decode is recorded in UPSTREAM_STATE_DIR/dead-letters.jsonl,
with its value (base64, up to 1 MiB); the file is rotated at 64 MiB, 5 old files kept.

  --reset-to WHEN     first move every partition to WHEN: earliest, latest, or a date (YYYY-MM-DD,
                      YYYYMMDD, or an ISO 8601 time; the first message at or after it), as after an
                      outage; the new positions are recorded before anything is read
  --until-caught-up   stop once every partition is read to its end (default: keep running; stop
                      with 'fink stop stream2science'); exits 1 if no upstream topic matches
  --instance ID       with the science log (SCIENCE_STORE=kafka; or UPSTREAM_INSTANCE_ID=ID): share
                      the upstream partitions with the other instances of UPSTREAM_GROUP_ID, on any
                      number of hosts: this instance joins the group on the upstream cluster with
                      the static membership ID (one of its own per instance) and reads only the
                      partitions the group gives it. Each partition is written with a transactional
                      id of its own, fink-stream2science-<group>-<topic>-<partition>, which the
                      partition's next owner opens before reading its position: an instance that
                      lost a partition cannot write it again. Each instance on one host needs an
                      UPSTREAM_STATE_DIR of its own. Not with --reset-to (it moves every partition:
                      run it once, without --instance, with the instances stopped)
  --replay-dead-letters
                      instead of streaming, decode the dead letters again (once their cause is
                      fixed: a schema registered, a decoder fixed) and store their alerts; an alert
                      already stored is not stored twice. Exits 1 if some still do not decode

Logs go to stderr, one structured line per event, with a progress line every 5 s (alerts/s, lag,
dead letters); UPSTREAM_METRICS_PORT serves Prometheus metrics at /metrics.
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { 'reset-to': { type: 'string' }, 'until-caught-up': { type: 'boolean' }, 'replay-dead-letters': { type: 'boolean' }, instance: { type: 'string' } });
  if (args === undefined) return 0;
  const { values } = args;
  const resetTo = values['reset-to'] === undefined ? undefined : parseResetTarget(values['reset-to']);
  const config = loadConfig({ confFile: values.conf });
  const settings = stream2scienceSettings(config, { instanceId: values.instance });
  if (settings.instanceId !== undefined && resetTo !== undefined) throw new UsageError(`--reset-to moves every partition of the group, and instance ${settings.instanceId} holds only some: stop the instances, run it once without --instance (UPSTREAM_INSTANCE_ID unset), then start them again`);
  const metrics = new Stream2ScienceMetrics();
  if (values['replay-dead-letters'] === true) {
    return runService(config, STREAM2SCIENCE_SERVICE, metrics, async (log, signal) => {
      // The log's writer has a transactional id of its own: the replay fences no running stream2science.
      const r = await replayDeadLetters(settings, log, signal, openStore(config, 'stream2science-replay').store);
      process.stdout.write(`replayed ${r.letters} dead letters: ${r.stored} alerts stored, ${r.duplicates} already stored, ${r.failed} still do not decode, ${r.unkept} recorded without their message\n`);
      return r.failed > 0 ? 1 : 0;
    });
  }
  applyStream2ScienceHeapFlags();
  return runService(config, STREAM2SCIENCE_SERVICE, metrics, async (log, signal) => {
    log('info', 'stream2science starting', { servers: settings.connection.bootstrapBrokers.join(','), group: settings.groupId, ...(settings.instanceId === undefined ? {} : { instance: settings.instanceId }), topics: settings.topicTexts.join(','), formats: config.list('UPSTREAM_FORMAT').join(','), into: storeDescription(settings) });
    const summary = await runStream2Science(settings, { signal, log, metrics, resetTo, untilCaughtUp: values['until-caught-up'] === true });
    const rate = summary.seconds > 0 ? summary.alerts / summary.seconds : 0;
    process.stdout.write(`stored ${summary.alerts} alerts from ${summary.messages} upstream messages in ${summary.seconds.toFixed(1)} s (${rate.toFixed(0)} alerts/s)\n`);
    if (summary.deadLetters > 0) process.stdout.write(`  ${summary.deadLetters} messages did not decode (recorded in ${deadLetterFile(settings.stateDir)})\n`);
    return 0;
  });
}
