// `fink_kafka`: the managed Kafka cluster and its topics.
import { readFileSync } from 'node:fs';
import { intFlag, parseFlags, runCommand } from '../../src/cli/args.ts';
import { FinkError, UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import { clusterLayout, runningPid, startCluster, stopCluster } from '../../src/cluster/cluster.ts';
import { diskUsage, fileSystemSpace, humanBytes } from '../../src/cluster/disk.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { CLUSTER_NAMES, clusterConfig, type ClusterName } from '../../src/cluster/settings.ts';
import { ensureRegistryBuild, registryLayout, registryPid, startRegistry, stopRegistry } from '../../src/cluster/registry.ts';
import type { Config } from '../../src/config/config.ts';
import { isSecured, kafkaClientOptions } from '../../src/kafka/client-options.ts';
import { addScramUser, deleteScramUser, grant, listAcls, revoke, revokedAcls, roleAcls } from '../../src/cluster/security.ts';
import { deleteTopic, describeTopic, ensureTopic, listTopics } from '../../src/kafka/topics.ts';

export const USAGE = `usage: fink_kafka [--cluster distribution|simulator] <command> [options]

clusters:
  distribution (default)                    the redistribution cluster: DISTRIBUTION_SERVERS, KAFKA_STATE_DIR
  simulator                                 the survey's side (fink start simulator): SIMULATOR_SERVERS,
                                            SIMULATOR_STATE_DIR, always PLAINTEXT; with its schema
                                            registry (Apicurio, 127.0.0.1:REGISTRY_PORT), started and
                                            stopped with it

commands:
  install                                   fetch the managed Apache Kafka jars with Maven (once); for the
                                            simulator cluster, also build its schema registry (once)
  start [--brokers N]                       start the cluster of N nodes (default 1; formats storage on first start), wait until it answers
  stop                                      stop the cluster gracefully
  status                                    whether it runs, its pid and bootstrap address; the disk its
                                            state folder takes and the free space left there (both
                                            clusters unless --cluster is given)
  --create-topic T [--partitions P] [--replication-factor R]
                                            create topic T unless it exists
  --delete-topic T                          delete topic T
  --list-topics                             list the topics
  --describe-topic T                        partitions, leaders and replicas of topic T

secured mode (KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT; fink_kafka acts as KAFKA_ADMIN_USERNAME):
  --authentication -a|-d -u USER [--password-stdin | --password-file F]
                                            add (with its password: the first line of standard
                                            input, of file F, or $FINK_KAFKA_USER_PASSWORD) or
                                            delete a SCRAM-SHA-512 user; -p PASS also works, but
                                            shows the password to every user of the machine (ps)
  --authorization -a|-d -u USER (-c GROUP | -p) -t TOPIC
                                            grant (-a) or revoke (-d) consumer rights (read TOPIC,
                                            use groups starting with GROUP) or producer rights (-p:
                                            write TOPIC, transactionally too, with transactional
                                            ids starting with 'USER-'; USER may not contain '-')
  --list-acl                                list the ACLs

options:
  --conf FILE                               configuration file (default: conf/fink.conf, or $FINK_CONF)
  -h, --help                                this text
`;

const OPTIONS = {
  conf: { type: 'string' },
  cluster: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  brokers: { type: 'string' },
  'create-topic': { type: 'string' },
  'delete-topic': { type: 'string' },
  'list-topics': { type: 'boolean' },
  'describe-topic': { type: 'string' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  authentication: { type: 'boolean' },
  authorization: { type: 'boolean' },
  'list-acl': { type: 'boolean' },
  add: { type: 'boolean', short: 'a' },
  delete: { type: 'boolean', short: 'd' },
  user: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  'password-stdin': { type: 'boolean' },
  'password-file': { type: 'string' },
  producer: { type: 'boolean' },
  consumer: { type: 'string', short: 'c' },
  topic: { type: 'string', short: 't' },
} as const;

const say = (line: string) => process.stdout.write(line + '\n');

/** Where a new user's password may come from without appearing on a command line. */
const PASSWORD_ENV = 'FINK_KAFKA_USER_PASSWORD';

/** The new user's password: from -p (with a warning), standard input, a file, or PASSWORD_ENV. */
function newUserPassword(values: { password?: string; 'password-stdin'?: boolean; 'password-file'?: string }): string {
  const given = [values.password !== undefined, values['password-stdin'] === true, values['password-file'] !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give the password one way: -p, --password-stdin or --password-file');
  const firstLine = (text: string) => text.split(/\r?\n/)[0] ?? '';
  if (values.password !== undefined) {
    process.stderr.write(`fink_kafka: warning: -p shows the password to every user of this machine (ps) and keeps it in the shell history; use --password-stdin, --password-file FILE or ${PASSWORD_ENV}\n`);
    return values.password;
  }
  if (values['password-stdin'] === true) return firstLine(readFileSync(0, 'utf8'));
  const file = values['password-file'];
  if (file !== undefined) {
    try {
      return firstLine(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new FinkError(`--password-file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 2);
    }
  }
  const env = process.env[PASSWORD_ENV];
  if (env === undefined || env === '') throw new UsageError(`the new user's password is required: --password-stdin, --password-file FILE or ${PASSWORD_ENV} (or -p PASS, visible to other users)`);
  return env;
}

/** How the messages name a cluster: the redistribution cluster keeps the plain name it always had. */
const title = (cluster: ClusterName) => (cluster === 'distribution' ? 'Kafka' : 'the simulator cluster');

function status(config: Config, cluster: ClusterName): void {
  const nodes = clusterLayout(config);
  const pids = nodes.map(runningPid);
  const up = nodes.filter((_, i) => pids[i] !== undefined);
  const stateDir = config.require('KAFKA_STATE_DIR');
  if (up.length === 0) say(`${title(cluster)} is not running (state in ${stateDir})`);
  else say(`${title(cluster)} is running: pid ${pids.filter((p) => p !== undefined).join(', ')}, bootstrap servers ${up.map((l) => `${l.host}:${l.port}`).join(',')}, ${up.length} of ${nodes.length} node(s) up, state in ${stateDir}`);
  if (cluster === 'simulator') {
    const layout = registryLayout(config);
    const pid = registryPid(layout);
    say(pid === undefined ? `the schema registry is not running (port ${layout.port})` : `the schema registry is running: pid ${pid}, ${layout.url} (Confluent-compatible API under /apis/ccompat/v7)`);
  }
  const space = fileSystemSpace(stateDir);
  say(`disk: ${humanBytes(diskUsage(stateDir))} used by ${stateDir}, ${humanBytes(space.free)} free of ${humanBytes(space.total)} on its file system`);
}

export async function main(argv: string[]): Promise<number> {
  return runCommand('fink_kafka', async () => {
    // -p is a password after --authentication but the producer role after --authorization.
    const args = argv.includes('--authorization') ? argv.map((a) => (a === '-p' ? '--producer' : a)) : argv;
    const { values, positionals } = parseFlags(args, OPTIONS, true);
    if (values.help === true) {
      process.stdout.write(USAGE);
      return 0;
    }
    const base = loadConfig({ confFile: values.conf });
    const name = values.cluster ?? 'distribution';
    if (!(CLUSTER_NAMES as readonly string[]).includes(name)) throw new UsageError(`--cluster: '${name}' is not one of ${CLUSTER_NAMES.join(', ')}`);
    const cluster = name as ClusterName;
    const config = clusterConfig(base, cluster);
    const topicActions = ['create-topic', 'delete-topic', 'list-topics', 'describe-topic', 'authentication', 'authorization', 'list-acl'].filter((k) => values[k as keyof typeof values] !== undefined);
    const command = positionals[0];
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (topicActions.length + (command === undefined ? 0 : 1) !== 1) {
      throw new UsageError(command === undefined && topicActions.length === 0 ? 'no command given' : 'give one command at a time');
    }

    if (values['create-topic'] !== undefined) {
      const name = values['create-topic'];
      const partitions = intFlag('partitions', values.partitions, 1, 10000) ?? config.int('DISTRIBUTION_PARTITIONS');
      const replicationFactor = intFlag('replication-factor', values['replication-factor'], 1, 100) ?? config.int('DISTRIBUTION_REPLICATION');
      const created = await ensureTopic(kafkaClientOptions(config, 'admin'), name, { partitions, replicationFactor });
      say(created ? `created topic ${name} (${partitions} partitions, replication factor ${replicationFactor})` : `topic ${name} exists already`);
      return 0;
    }
    if (values['delete-topic'] !== undefined) {
      const name = values['delete-topic'];
      if (!(await deleteTopic(kafkaClientOptions(config, 'admin'), name))) throw new FinkError(`topic ${name} does not exist`);
      say(`deleted topic ${name}`);
      return 0;
    }
    if (values.authentication === true || values.authorization === true || values['list-acl'] === true) {
      if (!isSecured(config)) throw new FinkError('users and ACLs need secured mode: set KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT (and KAFKA_ADMIN_PASSWORD)');
      if (values['list-acl'] === true) {
        for (const line of await listAcls(config)) say(line);
        return 0;
      }
      if (values.add === values.delete) throw new UsageError('give one of -a (add) or -d (delete)');
      const user = values.user;
      if (user === undefined) throw new UsageError('-u USER is required');
      if (values.authentication === true) {
        if (values.add === true) {
          await addScramUser(config, user, newUserPassword(values));
          say(`added user ${user} (SCRAM-SHA-512)`);
        } else {
          await deleteScramUser(config, user);
          say(`deleted user ${user}`);
        }
        return 0;
      }
      if (values.topic === undefined) throw new UsageError('-t TOPIC is required');
      if ((values.consumer === undefined) === (values.producer !== true)) throw new UsageError('give one of -c GROUP (consumer) or -p (producer)');
      const role = values.consumer !== undefined ? { consumer: values.consumer } : { producer: true as const };
      const acls = roleAcls(user, role, values.topic);
      const what = 'consumer' in role ? `consumer rights on ${values.topic} (groups ${role.consumer}*)` : `producer rights on ${values.topic}`;
      if (values.add === true) await grant(config, acls);
      else await revoke(config, revokedAcls(user, role, values.topic));
      say(`${values.add === true ? 'granted' : 'revoked'} ${what} ${values.add === true ? 'to' : 'from'} ${user}`);
      return 0;
    }
    if (values['list-topics'] === true) {
      for (const topic of await listTopics(kafkaClientOptions(config, 'admin'))) say(topic);
      return 0;
    }
    if (values['describe-topic'] !== undefined) {
      const name = values['describe-topic'];
      const topic = await describeTopic(kafkaClientOptions(config, 'admin'), name);
      if (topic === undefined) throw new FinkError(`topic ${name} does not exist`);
      say(`topic ${topic.name}  id ${topic.id}  partitions ${topic.partitions.length}  replication factor ${topic.partitions[0]?.replicas.length ?? 0}`);
      for (const p of topic.partitions) say(`  partition ${p.partition}  leader ${p.leader}  replicas ${p.replicas.join(',')}  isr ${p.isr.join(',')}`);
      return 0;
    }

    switch (command) {
      case 'install': {
        const libs = ensureKafkaJars(config, say);
        say(`Kafka jars: ${libs}`);
        if (cluster === 'simulator') say(`schema registry: ${ensureRegistryBuild(config, say)}`);
        return 0;
      }
      case 'start': {
        const brokers = intFlag('brokers', values.brokers, 1, 9);
        const result = await startCluster(config, say, brokers);
        const pids = result.pids.join(', ');
        say(result.alreadyRunning ? `${title(cluster)} is already running (pid ${pids}) at ${result.bootstrap}` : `${title(cluster)} started (pid ${pids}); bootstrap servers: ${result.bootstrap}`);
        if (cluster === 'simulator') {
          const registry = await startRegistry(config, say);
          say(registry.alreadyRunning ? `the schema registry is already running (pid ${registry.pid}) at ${registry.url}` : `the schema registry started (pid ${registry.pid}) at ${registry.url}`);
        }
        return 0;
      }
      case 'stop': {
        // The registry first: its clients are the simulator's producers, gone with the cluster anyway.
        if (cluster === 'simulator') {
          const pid = await stopRegistry(config);
          say(pid === undefined ? 'the schema registry is not running' : `the schema registry stopped (pid ${pid})`);
        }
        const pids = await stopCluster(config);
        say(pids.length === 0 ? `${title(cluster)} is not running` : `${title(cluster)} stopped (pid ${pids.join(', ')})`);
        return 0;
      }
      case 'status': {
        for (const shown of values.cluster === undefined ? CLUSTER_NAMES : [cluster]) status(clusterConfig(base, shown), shown);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  });
}
