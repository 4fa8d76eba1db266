// `fink_kafka`: the managed Kafka cluster and its topics.
import { existsSync, readFileSync } from 'node:fs';
import { intFlag, parseFlags, runCommand } from '../../src/cli/args.ts';
import { FinkError, UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/config.ts';
import { clientCaFile } from '../../src/cluster/certificates.ts';
import { startCluster, stopCluster } from '../../src/cluster/cluster.ts';
import { diskUsage, fileSystemSpace, humanBytes } from '../../src/cluster/disk.ts';
import { clusterLayout, spreadOverHosts, type NodeLayout } from '../../src/cluster/layout.ts';
import { runningPid } from '../../src/cluster/processes.ts';
import { ensureKafkaJars } from '../../src/cluster/provision.ts';
import { checkRegistryStart, managedRegistry, serving, startManagedRegistry, stopManagedRegistry } from '../../src/cluster/managed-registry.ts';
import { CCOMPAT_PATH, ensureRegistryBuild } from '../../src/cluster/registry.ts';
import { addScramUser, deleteScramUser, grant, listAcls, revoke, revokedAcls, roleAcls } from '../../src/cluster/security.ts';
import { CLUSTER_NAMES, clusterConnection, clusterSettings, type ClusterName, type ClusterSettings, type RegistrySettings } from '../../src/cluster/settings.ts';
import type { Config } from '../../src/config/config.ts';
import { classifyKafkaError, tlsFailureHint, unreachableError } from '../../src/kafka/errors.ts';
import { deleteTopic, describeTopic, ensureTopic, listTopics } from '../../src/kafka/topics.ts';

export const USAGE = `usage: fink_kafka [--cluster distribution|simulator] <command> [options]

clusters:
  distribution (default)                    the redistribution cluster: DISTRIBUTION_SERVERS, KAFKA_STATE_DIR
  simulator                                 the survey's side (fink start simulator): SIMULATOR_SERVERS,
                                            SIMULATOR_STATE_DIR, always PLAINTEXT; with its schema
                                            registry (Apicurio, 127.0.0.1:REGISTRY_PORT), started and
                                            stopped with it

commands:
  install [--registry]                      fetch the managed Apache Kafka jars with Maven (once); for the
                                            simulator cluster or with --registry, also build the schema
                                            registry (once)
  start [--brokers N] [--registry]          start the cluster of N nodes (default 1; formats storage on first start), wait until it answers
                                            --registry: also start its managed schema registry (the same
                                            Apicurio build as the simulator's) on DISTRIBUTION_REGISTRY_HOST
                                            (127.0.0.1) : DISTRIBUTION_REGISTRY_PORT, its files in
                                            KAFKA_STATE_DIR/registry; in secured mode behind a gate: writes
                                            need the credentials of KAFKA_ADMIN_USERNAME or
                                            KAFKA_SASL_USERNAME, reads as DISTRIBUTION_REGISTRY_READS says
                                            (open or authenticated: any user of the cluster)
  start --brokers N --node I                on several hosts: when the servers name one host per node
                                            (DISTRIBUTION_SERVERS=h0:p0,h1:p1,h2:p2 and N of them),
                                            format and start node I alone (I from 0: clients on
                                            server I, its controller on the port after), and wait
                                            until it answers, which needs a majority of the nodes;
                                            every host runs this with the same configuration and
                                            its own I. PLAINTEXT only (secured mode is refused)
  stop [--node I]                           stop the cluster's nodes on this host (node I alone) gracefully,
                                            and its schema registry if it runs
  status                                    whether it and its schema registry run, their pids and addresses; the disk its
                                            state folder takes and the free space left there (both
                                            clusters unless --cluster is given)
  --create-topic T [--partitions P] [--replication-factor R]
                                            create topic T unless it exists
  --delete-topic T                          delete topic T
  --list-topics                             list the topics
  --describe-topic T                        partitions, leaders and replicas of topic T

secured mode (KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT, or SASL_SSL: the same over TLS, with a CA and
broker certificates made once in KAFKA_STATE_DIR/tls or KAFKA_SSL_KEYSTORE_FILE's; start and status
print the CA file that clients trust; fink_kafka acts as KAFKA_ADMIN_USERNAME):
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
  node: { type: 'string' },
  registry: { type: 'boolean' },
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
const title = (cluster: ClusterSettings) => (cluster.name === 'distribution' ? 'Kafka' : 'the simulator cluster');

type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

/** One run of fink_kafka: its flags, the configuration, and the cluster it acts on. */
interface Invocation {
  values: Values;
  config: Config;
  cluster: ClusterSettings;
}

/** In SASL_SSL mode, the CA file that clients need, said by start and status. */
function sayCaFile(cluster: ClusterSettings): void {
  const ca = clientCaFile(cluster);
  if (ca === undefined) return;
  const made = existsSync(ca) ? '' : cluster.tls?.keystore === undefined ? ", made at the first 'fink_kafka start'" : ', which does not exist';
  say(`TLS (SASL_SSL): clients trust the certificate authority in ${ca}${made} (KAFKA_SSL_CA_FILE; fink-client, confluent-kafka: ssl.ca.location)`);
}

/** How many nodes are up: of the cluster on one host; spread over hosts, of those this host has. */
function nodesUp(cluster: ClusterSettings, nodes: NodeLayout[], up: NodeLayout[]): string {
  if (!spreadOverHosts(cluster, nodes.length)) return `${up.length} of ${nodes.length} node(s) up`;
  const here = nodes.filter((l) => existsSync(l.dir)).map((l) => nodes.indexOf(l));
  return `node(s) ${up.map((l) => nodes.indexOf(l)).join(', ')} up of the ${here.length} on this host (node(s) ${here.join(', ')}; a cluster of ${nodes.length} spread over hosts)`;
}

/** How the messages name a cluster's registry: the simulator's keeps the plain name it always had. */
const registryTitle = (registry: RegistrySettings) => (registry.withCluster ? 'the schema registry' : "Kafka's schema registry");

/** In secured mode, what the gate asks of whom. */
const gateRules = (registry: RegistrySettings) =>
  registry.gate === undefined ? '' : `; writes need the credentials of ${registry.gate.writers.join(' or ')}, reads ${registry.gate.reads === 'open' ? 'are open' : 'need those of a user of the cluster'}`;

function registryStatus(registry: RegistrySettings): string {
  const state = managedRegistry(registry);
  const title = registryTitle(registry);
  const pids = [state.pid, state.gatePid].filter((p) => p !== undefined).join(', ');
  if (serving(registry, state)) return `${title} is running: pid ${pids}, ${state.url} (Confluent-compatible API under ${CCOMPAT_PATH})${gateRules(registry)}`;
  const started = registry.withCluster ? '' : "'fink_kafka start --registry', ";
  return pids === '' ? `${title} is not running (${started}port ${registry.port})` : `${title} is not serving: only pid ${pids} runs (${state.pid === undefined ? 'its gate' : 'Apicurio, without its gate'}); 'fink_kafka start${registry.withCluster ? '' : ' --registry'}' starts the rest`;
}

function status(cluster: ClusterSettings): void {
  const nodes = clusterLayout(cluster);
  const pids = nodes.map(runningPid);
  const up = nodes.filter((_, i) => pids[i] !== undefined);
  const { stateDir } = cluster;
  if (up.length === 0) say(`${title(cluster)} is not running (state in ${stateDir})`);
  else say(`${title(cluster)} is running: pid ${pids.filter((p) => p !== undefined).join(', ')}, bootstrap servers ${up.map((l) => `${l.host}:${l.port}`).join(',')}, ${nodesUp(cluster, nodes, up)}, state in ${stateDir}`);
  sayCaFile(cluster);
  if (cluster.registry !== undefined) say(registryStatus(cluster.registry));
  const space = fileSystemSpace(stateDir);
  say(`disk: ${humanBytes(diskUsage(stateDir))} used by ${stateDir}, ${humanBytes(space.free)} free of ${humanBytes(space.total)} on its file system`);
}

/** The commands given as a positional argument. */
const COMMANDS: Readonly<Record<string, (run: Invocation) => Promise<void>>> = {
  async install({ values, cluster }) {
    const libs = ensureKafkaJars(cluster, say);
    say(`Kafka jars: ${libs}`);
    if (cluster.registry !== undefined && (cluster.registry.withCluster || values.registry === true)) say(`schema registry: ${ensureRegistryBuild(cluster.registry, say)}`);
  },
  async start({ values, cluster }) {
    const brokers = intFlag('brokers', values.brokers, 1, 9);
    const { registry } = cluster;
    const withRegistry = registry !== undefined && (registry.withCluster || values.registry === true);
    // Before the cluster: a registry that cannot start stops nothing half-way.
    if (withRegistry) checkRegistryStart(registry);
    const result = await startCluster(cluster, say, brokers, intFlag('node', values.node, 0, 8));
    const pids = result.pids.join(', ');
    say(result.alreadyRunning ? `${title(cluster)} is already running (pid ${pids}) at ${result.bootstrap}` : `${title(cluster)} started (pid ${pids}); bootstrap servers: ${result.bootstrap}`);
    sayCaFile(cluster);
    if (withRegistry) {
      const started = await startManagedRegistry(registry, say);
      const pids = [started.pid, started.gatePid].filter((p) => p !== undefined).join(', ');
      say(`${registryTitle(registry)} ${started.alreadyRunning ? 'is already running' : 'started'} (pid ${pids}) at ${started.url}${gateRules(registry)}`);
    }
  },
  async stop({ values, cluster }) {
    // The registry first: its clients (the simulator's producers, the distribution) are gone with the cluster anyway.
    const { registry } = cluster;
    if (registry !== undefined) {
      const pids = await stopManagedRegistry(registry);
      // The redistribution cluster's registry is optional: said only when there was one.
      if (pids.length > 0) say(`${registryTitle(registry)} stopped (pid ${pids.join(', ')})`);
      else if (registry.withCluster) say('the schema registry is not running');
    }
    const pids = await stopCluster(cluster, undefined, intFlag('node', values.node, 0, 8));
    say(pids.length === 0 ? `${title(cluster)} is not running` : `${title(cluster)} stopped (pid ${pids.join(', ')})`);
  },
  async status({ values, config, cluster }) {
    // Both clusters unless one is named.
    for (const shown of values.cluster === undefined ? CLUSTER_NAMES : [cluster.name]) status(clusterSettings(config, shown));
  },
};

/** Users and ACLs are secured mode's. */
function securedOnly(cluster: ClusterSettings): void {
  if (!cluster.secured) throw new FinkError('users and ACLs need secured mode: set KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT or SASL_SSL (and KAFKA_ADMIN_PASSWORD)');
}

/** -a or -d, and -u USER: what --authentication and --authorization act on. */
function addOrDelete(values: Values): { add: boolean; user: string } {
  if (values.add === values.delete) throw new UsageError('give one of -a (add) or -d (delete)');
  const user = values.user;
  if (user === undefined) throw new UsageError('-u USER is required');
  return { add: values.add === true, user };
}

/** The commands given as a flag. */
const ACTIONS = {
  async 'create-topic'({ values, config, cluster }: Invocation) {
    const name = values['create-topic'] as string;
    const partitions = intFlag('partitions', values.partitions, 1, 10000) ?? config.int('DISTRIBUTION_PARTITIONS');
    const replicationFactor = intFlag('replication-factor', values['replication-factor'], 1, 100) ?? config.int('DISTRIBUTION_REPLICATION');
    const created = await ensureTopic(clusterConnection(cluster), name, { partitions, replicationFactor });
    say(created ? `created topic ${name} (${partitions} partitions, replication factor ${replicationFactor})` : `topic ${name} exists already`);
  },
  async 'delete-topic'({ values, cluster }: Invocation) {
    const name = values['delete-topic'] as string;
    if (!(await deleteTopic(clusterConnection(cluster), name))) throw new FinkError(`topic ${name} does not exist`);
    say(`deleted topic ${name}`);
  },
  async 'list-topics'({ cluster }: Invocation) {
    for (const topic of await listTopics(clusterConnection(cluster))) say(topic);
  },
  async 'describe-topic'({ values, cluster }: Invocation) {
    const name = values['describe-topic'] as string;
    const topic = await describeTopic(clusterConnection(cluster), name);
    if (topic === undefined) throw new FinkError(`topic ${name} does not exist`);
    say(`topic ${topic.name}  id ${topic.id}  partitions ${topic.partitions.length}  replication factor ${topic.partitions[0]?.replicas.length ?? 0}`);
    for (const p of topic.partitions) say(`  partition ${p.partition}  leader ${p.leader}  replicas ${p.replicas.join(',')}  isr ${p.isr.join(',')}`);
  },
  async authentication({ values, cluster }: Invocation) {
    securedOnly(cluster);
    const { add, user } = addOrDelete(values);
    if (add) {
      await addScramUser(cluster, user, newUserPassword(values));
      say(`added user ${user} (SCRAM-SHA-512)`);
    } else {
      await deleteScramUser(cluster, user);
      say(`deleted user ${user}`);
    }
  },
  async authorization({ values, cluster }: Invocation) {
    securedOnly(cluster);
    const { add, user } = addOrDelete(values);
    if (values.topic === undefined) throw new UsageError('-t TOPIC is required');
    if ((values.consumer === undefined) === (values.producer !== true)) throw new UsageError('give one of -c GROUP (consumer) or -p (producer)');
    const role = values.consumer !== undefined ? { consumer: values.consumer } : { producer: true as const };
    const what = 'consumer' in role ? `consumer rights on ${values.topic} (groups ${role.consumer}*)` : `producer rights on ${values.topic}`;
    if (add) await grant(cluster, roleAcls(user, role, values.topic));
    else await revoke(cluster, revokedAcls(user, role, values.topic));
    say(`${add ? 'granted' : 'revoked'} ${what} ${add ? 'to' : 'from'} ${user}`);
  },
  async 'list-acl'({ cluster }: Invocation) {
    securedOnly(cluster);
    for (const line of await listAcls(cluster)) say(line);
  },
} as const;
const ACTION_NAMES = Object.keys(ACTIONS) as (keyof typeof ACTIONS)[];

/** One line for a cluster that did not answer (a TLS failure says what to check), or undefined for another error. */
function notAnswering(cluster: ClusterSettings, err: unknown): FinkError | undefined {
  const failure = classifyKafkaError(err);
  const hint = tlsFailureHint(err, 'KAFKA');
  if (hint === undefined && failure !== 'unreachable') return undefined;
  return unreachableError(cluster.servers, err, { who: title(cluster), advice: hint ?? `start it with 'fink_kafka start', or set ${cluster.keys.servers} to a running cluster` });
}

function clusterName(value: string | undefined): ClusterName {
  const name = value ?? 'distribution';
  if (!(CLUSTER_NAMES as readonly string[]).includes(name)) throw new UsageError(`--cluster: '${name}' is not one of ${CLUSTER_NAMES.join(', ')}`);
  return name as ClusterName;
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
    const config = loadConfig({ confFile: values.conf });
    const cluster = clusterSettings(config, clusterName(values.cluster));
    const actions = ACTION_NAMES.filter((k) => values[k] !== undefined);
    const command = positionals[0];
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    if (actions.length + (command === undefined ? 0 : 1) !== 1) {
      throw new UsageError(command === undefined && actions.length === 0 ? 'no command given' : 'give one command at a time');
    }
    const run = actions[0] === undefined ? COMMANDS[command as string] : ACTIONS[actions[0]];
    if (run === undefined) throw new UsageError(`unknown command '${command}'`);
    try {
      await run({ values, config, cluster });
    } catch (err) {
      throw notAnswering(cluster, err) ?? err;
    }
    return 0;
  });
}
