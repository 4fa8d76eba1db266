// The managed Kafka's jars: fetched once by Maven from kafka/pom.xml into KAFKA_CACHE_DIR; after
// that everything runs offline. With KAFKA_HOME set, that installation's libs/ is used instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FinkError } from '../errors.ts';
import { packageRoot } from '../config/config.ts';
import type { KafkaJars } from './settings.ts';

const MARKER = '.complete';

export function requireTool(tool: string, why: string, otherwise = ', or set KAFKA_HOME to an existing Kafka installation'): void {
  const probe = spawnSync(tool, ['-version'], { stdio: 'ignore' });
  if (probe.error !== undefined) {
    throw new FinkError(
      `${tool} was not found on the PATH; it is needed ${why}. Install it (Debian: apt-get install ${tool === 'mvn' ? 'maven' : 'openjdk-17-jre-headless'})${otherwise}.`,
      { code: 'FINK_KAFKA' },
    );
  }
}

/** The folder of Kafka jars to put on the classpath, fetching them first when needed. */
export function ensureKafkaJars(jars: KafkaJars, log: (line: string) => void = () => {}): string {
  const home = jars.kafkaHome;
  if (home !== undefined && home !== '') {
    const libs = join(home, 'libs');
    if (!existsSync(libs) || !readdirSync(libs).some((f) => /^kafka_2\.\d+-.*\.jar$/.test(f))) {
      throw new FinkError(`KAFKA_HOME=${home} does not look like a Kafka installation: no libs/kafka_2.*.jar`, { code: 'FINK_KAFKA' });
    }
    return libs;
  }
  const libs = join(jars.cacheDir, 'libs');
  if (existsSync(join(libs, MARKER))) return libs;

  requireTool('java', 'to run Apache Kafka');
  requireTool('mvn', 'to fetch the Apache Kafka jars once');
  log(`fetching Apache Kafka ${jars.kafkaVersion} with Maven into ${libs} (once)...`);
  // A half-done copy is redone from scratch: the marker is written only after a full success.
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(libs, { recursive: true });
  const result = spawnSync(
    'mvn',
    ['-q', '-B', '-f', join(packageRoot(), 'kafka', 'pom.xml'), 'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`, '-DincludeScope=runtime', `-Dkafka.version=${jars.kafkaVersion}`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new FinkError(`Maven could not fetch the Kafka jars (exit ${result.status}):\n${(result.stdout + result.stderr).trim().slice(-2000)}`, { code: 'FINK_KAFKA' });
  }
  writeFileSync(join(libs, MARKER), new Date().toISOString() + '\n');
  log(`Kafka jars ready in ${libs}`);
  return libs;
}
