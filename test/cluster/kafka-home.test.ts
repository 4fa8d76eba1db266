import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { clusterSettings } from '../../src/cluster/settings.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { freePortPair } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';

describe('KAFKA_HOME: an existing Kafka installation instead of the managed one', { timeout: 180_000 }, () => {
  // Its own state folder from the start, so that the clean-up never reaches var/kafka.
  const env: Record<string, string> = { KAFKA_STATE_DIR: tempDir('kafka-home-state'), KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m' };
  after(() => runCli('fink_kafka', ['stop'], env));

  it('runs the cluster from that installation\'s libs/, never from the Maven cache', async () => {
    // An installation laid out as Apache Kafka's binary release is: its jars in libs/.
    const home = tempDir('kafka-home');
    symlinkSync(ensureKafkaJars(clusterSettings(loadConfig({ env: testEnv({}) }), 'distribution')), join(home, 'libs'));
    const port = await freePortPair();
    Object.assign(env, { KAFKA_HOME: home, KAFKA_CACHE_DIR: join(home, 'no-cache-here'), DISTRIBUTION_SERVERS: `127.0.0.1:${port}` });
    const started = runCli('fink_kafka', ['start'], env);
    assert.equal(started.status, 0, started.stderr);
    assert.doesNotMatch(started.stdout, /Maven/);
    assert.match(started.stdout, /Kafka started/);
    assert.equal(runCli('fink_kafka', ['--create-topic', 'from_home'], env).status, 0);
    assert.match(runCli('fink_kafka', ['--list-topics'], env).stdout, /from_home/);
  });

  it('says plainly when KAFKA_HOME is not a Kafka installation', () => {
    const empty = tempDir('kafka-empty');
    mkdirSync(join(empty, 'libs'));
    const r = runCli('fink_kafka', ['install'], { KAFKA_HOME: empty });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`KAFKA_HOME=${empty} does not look like a Kafka installation`));
  });
});
