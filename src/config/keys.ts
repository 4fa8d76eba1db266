// Every configuration key the project reads, with its kind and built-in default. One table, so that
// validation, `--help` texts and the sample conf/fink.conf cannot drift apart.

export type KeyKind =
  | { kind: 'string' }
  | { kind: 'path' }
  | { kind: 'int'; min: number; max?: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'list' };

export interface KeySpec {
  readonly name: string;
  readonly type: KeyKind;
  /** Built-in default; `${VAR}` references are expanded like file values. Undefined: unset. */
  readonly default?: string;
  readonly doc: string;
  /** Never printed or logged. */
  readonly secret?: boolean;
}

const path = { kind: 'path' } as const;
const str = { kind: 'string' } as const;

/** The compressions a producer may use (Kafka's own names; zstd through Node 24's zlib). */
export const COMPRESSIONS = ['lz4', 'zstd', 'gzip', 'snappy', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const KEYS = [
  { name: 'FINK_HOME', type: path, doc: 'base of the relative paths below (default: the package root)' },
  { name: 'KAFKA_HOME', type: path, doc: 'an existing Apache Kafka installation to use instead of the managed one' },
  { name: 'KAFKA_VERSION', type: str, default: '4.2.1', doc: 'the managed Kafka release (must match kafka/pom.xml)' },
  { name: 'KAFKA_CACHE_DIR', type: path, default: '${FINK_HOME}/var/cache/kafka-${KAFKA_VERSION}', doc: 'where the managed Kafka jars are kept' },
  { name: 'KAFKA_STATE_DIR', type: path, default: '${FINK_HOME}/var/kafka', doc: 'data, logs and pid files of the managed cluster' },
  { name: 'KAFKA_HEAP_OPTS', type: str, default: '-Xms256m -Xmx1g', doc: 'JVM heap options of each managed broker' },
  { name: 'KAFKA_START_TIMEOUT_S', type: { kind: 'int', min: 1, max: 3600 }, default: '90', doc: 'how long `fink_kafka start` waits for the managed cluster to answer (a loaded machine takes longer)' },
  { name: 'DISTRIBUTION_SERVERS', type: { kind: 'list' }, default: '127.0.0.1:9092', doc: 'bootstrap servers, comma-separated' },
  { name: 'DISTRIBUTION_SCHEMA', type: path, default: '${FINK_HOME}/schemas/distribution_schema.avsc', doc: 'where the newest distribution schema is written' },
  { name: 'SUBSTREAM_PREFIX', type: str, default: 'fink_', doc: 'prefix of the science topics' },
  { name: 'USER_TOPIC_PREFIX', type: str, default: 'fink_u_', doc: 'prefix of the topics of user filters: <prefix><owner>_<name>_<survey> (fink filter add)' },
  { name: 'USER_FILTER_QUOTA_MB', type: { kind: 'int', min: 1, max: 1_000_000 }, doc: "megabytes (10^6 bytes, keys and values) a user filter's topic may receive a night when its registration gives no --quota-mb; unset: no quota. Past it the filter's alerts are counted as over quota and not sent" },
  { name: 'USER_FILTERS_TOPIC', type: str, default: '_fink_user_filters', doc: 'compacted topic holding the registrations of user filters (key <owner>/<name>/<survey>), created by the first fink filter add' },
  { name: 'USER_FILTER_USAGE_TOPIC', type: str, default: '_fink_user_filter_usage', doc: "compacted topic of what the user filters sent (alerts and bytes per filter and night), one record per distribution instance written in its batches' transactions; read by fink filter list and by a group's quotas; created by the distribution" },
  { name: 'SCIENCE_DB_PATH', type: path, default: '${FINK_HOME}/var/science', doc: 'the embedded science database (a folder, one file per night)' },
  { name: 'SCIENCE_STORE', type: { kind: 'enum', values: ['sqlite', 'kafka'] }, default: 'sqlite', doc: 'sqlite: the embedded science database at SCIENCE_DB_PATH (one host); kafka: the science log, retained topics on the cluster at DISTRIBUTION_SERVERS (many hosts)' },
  { name: 'SCIENCE_TOPIC_PREFIX', type: str, default: 'fink_science_', doc: "the science log's topics: <prefix><survey> (fink_science_ztf, fink_science_lsst) and <prefix>schemas" },
  { name: 'SCIENCE_PARTITIONS', type: { kind: 'int', min: 1, max: 10000 }, default: '12', doc: "partitions of the science log's topics when a writer creates them (the most distribution instances that share the work)" },
  { name: 'SCIENCE_RETENTION_MS', type: { kind: 'int', min: -1 }, default: '604800000', doc: "how long the science log keeps alerts (Kafka's retention.ms; -1: for ever): this is `fink db prune` for the log" },
  { name: 'SCIENCE_RETENTION_BYTES', type: { kind: 'int', min: -1 }, default: '-1', doc: "bytes the science log keeps per partition (Kafka's retention.bytes; -1: no limit)" },
  { name: 'SCIENCE_DEDUP_WINDOW', type: { kind: 'int', min: 0, max: 10000000 }, default: '1000', doc: "the science log: an alert is distributed once unless the same (survey, id) appeared among the previous this-many offsets of its partition (0: no check); an instance taking a partition over re-reads that many records first, so it bounds the takeover's reads too" },
  { name: 'SCIENCE_COMPRESSION', type: { kind: 'enum', values: COMPRESSIONS }, default: 'none', doc: "compression of the science log's record batches, which its writers compress and every reading instance inflates again: none, because whole alerts barely compress (Rubin's cutouts are compressed already: lz4 saves 1/6 of the disk) and lz4 cost stream2science and the distribution's instances about 20% more CPU per Rubin alert (see BENCHMARKS.md); lz4 where disk, not CPU, is short" },
  { name: 'KAFKA_SECURITY_PROTOCOL', type: { kind: 'enum', values: ['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL'] }, default: 'PLAINTEXT', doc: 'SASL_PLAINTEXT: SCRAM-SHA-512 and ACLs; SASL_SSL: the same over TLS (the client listener)' },
  { name: 'KAFKA_SSL_CA_FILE', type: path, default: '${KAFKA_STATE_DIR}/tls/ca.pem', doc: "SASL_SSL: the certificate authority (PEM) that the clients trust; fink_kafka start generates one there once, unless KAFKA_SSL_KEYSTORE_FILE names the operator's keystore (then this file is the operator's CA, and the brokers trust it too)" },
  { name: 'KAFKA_SSL_KEYSTORE_FILE', type: path, doc: "SASL_SSL: the operator's broker keystore (PKCS12: the brokers' key and certificate chain; unset: generated once in KAFKA_STATE_DIR/tls)" },
  { name: 'KAFKA_SSL_KEYSTORE_PASSWORD', type: str, secret: true, doc: 'the password of KAFKA_SSL_KEYSTORE_FILE (and of its key)' },
  { name: 'KAFKA_SSL_CERT_FILE', type: path, doc: "SASL_SSL: the clients' own certificate (PEM), for brokers that ask for one (with KAFKA_SSL_KEY_FILE)" },
  { name: 'KAFKA_SSL_KEY_FILE', type: path, doc: 'its private key (PEM, unencrypted)' },
  { name: 'KAFKA_SASL_USERNAME', type: str, doc: 'user of the distribution service and consumers in secured mode' },
  { name: 'KAFKA_SASL_PASSWORD', type: str, secret: true, doc: 'its password' },
  { name: 'KAFKA_ADMIN_USERNAME', type: str, default: 'admin', doc: 'the super user of the cluster in secured mode' },
  { name: 'KAFKA_ADMIN_PASSWORD', type: str, secret: true, doc: 'its password (no default)' },
  { name: 'DISTRIBUTION_PARTITIONS', type: { kind: 'int', min: 1, max: 10000 }, default: '3', doc: 'partitions of the topics the service creates' },
  { name: 'DISTRIBUTION_ID', type: str, default: 'fink-distribution', doc: "the service's identity: its Kafka transactional id and the key of its checkpoint (one running instance per id)" },
  { name: 'DISTRIBUTION_GROUP', type: str, doc: 'the science log (SCIENCE_STORE=kafka): the consumer group that the instances form (each with its own DISTRIBUTION_ID); unset: one instance, with a checkpoint' },
  { name: 'DISTRIBUTION_TEST_TOPIC', type: str, default: 'distribution_test', doc: 'the topic that gets every alert (and that fink start distribution_test reads by default)' },
  { name: 'DISTRIBUTION_TOPICS', type: { kind: 'list' }, default: 'all', doc: 'science topics to fill: filter names (see FILTERS_DIR), or all; distribution_test always gets every alert' },
  { name: 'FILTERS_DIR', type: path, default: '${FINK_HOME}/filters', doc: 'the filters folder: one module per science topic' },
  { name: 'DISTRIBUTION_BATCH', type: { kind: 'int', min: 1, max: 100000 }, default: '500', doc: 'alerts per Kafka transaction' },
  { name: 'DISTRIBUTION_BATCH_BYTES', type: { kind: 'int', min: 1048576, max: 1073741824 }, default: '16777216', doc: 'at most this many bytes of alerts per Kafka transaction (Rubin alerts are large): the memory a batch takes' },
  { name: 'DISTRIBUTION_POLL_MS', type: { kind: 'int', min: 10, max: 60000 }, default: '200', doc: 'how often a caught-up service looks for new alerts' },
  { name: 'DISTRIBUTION_CHECKPOINT_TOPIC', type: str, default: '_fink_distribution_checkpoints', doc: 'compacted topic holding each service id\'s checkpoint, written in the same transaction as its alerts' },
  { name: 'DISTRIBUTION_OVERSIZE', type: { kind: 'enum', values: ['stop', 'skip'] }, default: 'stop', doc: 'an alert larger than its topic accepts: stop the service, or skip it and record it in DISTRIBUTION_STATE_DIR/skipped.jsonl' },
  { name: 'DISTRIBUTION_STATE_DIR', type: path, default: '${FINK_HOME}/var/distribution', doc: 'pid file of the running service and the record of skipped alerts' },
  { name: 'DISTRIBUTION_METRICS_PORT', type: { kind: 'int', min: 0, max: 65535 }, doc: 'serve Prometheus metrics on this port (unset: no endpoint)' },
  { name: 'DISTRIBUTION_REPLICATION', type: { kind: 'int', min: 1, max: 100 }, default: '1', doc: 'replication factor of the topics the service creates' },
  { name: 'DISTRIBUTION_COMPRESSION', type: { kind: 'enum', values: COMPRESSIONS }, default: 'lz4', doc: 'compression of the record batches of the topics with whole alerts, cutouts included (see BENCHMARKS.md for the measurements behind the default)' },
  { name: 'DISTRIBUTION_LIGHT_COMPRESSION', type: { kind: 'enum', values: COMPRESSIONS }, default: 'zstd', doc: "compression of the topics that drop fields (no cutouts: the schema in each message's key is most of it, and it repeats beyond lz4's window; see BENCHMARKS.md)" },
  { name: 'DISTRIBUTION_MIN_ISR', type: { kind: 'int', min: 1, max: 100 }, default: '1', doc: 'min.insync.replicas of the topics the service creates: how many replicas must have a message before it counts as written (at most DISTRIBUTION_REPLICATION)' },
  { name: 'DISTRIBUTION_MAX_MESSAGE_BYTES', type: { kind: 'int', min: 1048576, max: 104857600 }, default: '10485760', doc: "max.message.bytes of the topics the service creates, and the managed cluster's message.max.bytes: the largest alert a topic accepts (10 MB, as Rubin's own broker)" },
  { name: 'DISTRIBUTION_RETENTION_HOURS', type: { kind: 'int', min: 1, max: 87600 }, default: '168', doc: 'how long the topics the service creates keep a message (retention.ms), in hours' },
  { name: 'DISTRIBUTION_RETENTION_BYTES', type: { kind: 'int', min: 1048576 }, doc: "retention.bytes (per partition) of the topics the service creates (unset: half the free space of KAFKA_STATE_DIR's file system shared by the topics' partitions and replicas; see README)" },
  { name: 'DISTRIBUTION_REGISTRY_HOST', type: str, default: '127.0.0.1', doc: "address of the redistribution cluster's managed schema registry (fink_kafka start --registry); loopback by default, as the clients usually run beside the cluster" },
  { name: 'DISTRIBUTION_REGISTRY_PORT', type: { kind: 'int', min: 1, max: 65535 }, default: '8082', doc: "port of the redistribution cluster's managed schema registry (the simulator's is REGISTRY_PORT)" },
  { name: 'DISTRIBUTION_REGISTRY_READS', type: { kind: 'enum', values: ['open', 'authenticated'] }, default: 'open', doc: "secured mode: who may read the managed registry's schemas: open (anyone who reaches it: a schema is no secret, and every consumer needs it) or authenticated (any user of the cluster, HTTP basic auth with its SCRAM credentials). Writes always need the credentials of KAFKA_ADMIN_USERNAME or KAFKA_SASL_USERNAME" },
  { name: 'DISTRIBUTION_SCHEMA_REGISTRY', type: str, default: 'http://${DISTRIBUTION_REGISTRY_HOST}:${DISTRIBUTION_REGISTRY_PORT}/apis/ccompat/v7', doc: "the Confluent-compatible schema registry that the distribution registers its schemas in (DISTRIBUTION_FORMAT=confluent): the managed one by default, or an existing one's URL (in secured mode the distribution's user, KAFKA_SASL_USERNAME, authenticates; user:password@ in the URL is sent as Basic auth, never logged); fink start distribution_test and the console resolve the schema ids of confluent messages through it" },
  // The wire format of the distribution's topics (docs/architecture.md, Wire contract).
  { name: 'DISTRIBUTION_FORMAT', type: { kind: 'enum', values: ['fink', 'confluent'] }, default: 'fink', doc: "the wire format of the topics that DISTRIBUTION_FORMAT_TOPICS does not name: fink (key: the writer schema as JSON, value: the datum; fink-client's contract) or confluent (key: the object id, value: a zero byte, the schema's id in DISTRIBUTION_SCHEMA_REGISTRY, the datum)" },
  { name: 'DISTRIBUTION_FORMAT_TOPICS', type: { kind: 'list' }, doc: "per topic, PATTERN=FORMAT entries (fink or confluent), the first whose pattern matches the whole topic name, e.g. 'fink_.*_lsst=confluent'; a topic no entry matches has DISTRIBUTION_FORMAT" },
  { name: 'DISTRIBUTION_SCHEMA_COMPATIBILITY', type: { kind: 'enum', values: ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'] }, default: 'BACKWARD', doc: "the compatibility level set on a subject the confluent format creates: a schema the registry then refuses stops the distribution (exit 1) before anything of its batch is sent" },
  { name: 'SIMULATOR_SERVERS', type: { kind: 'list' }, default: '127.0.0.1:9192', doc: "bootstrap servers of the simulator cluster (the survey side: fink start simulator writes there, fink start stream2science reads there); the managed one's nodes take the first port, and the port after it for their controller" },
  { name: 'SIMULATOR_PARTITIONS', type: { kind: 'int', min: 1, max: 1000 }, default: '3', doc: 'partitions of the topics fink start simulator creates on the simulator cluster' },
  { name: 'SIMULATOR_STATE_DIR', type: path, default: '${FINK_HOME}/var/simulator', doc: 'data, logs and pid files of the managed simulator cluster and of its schema registry' },
  { name: 'REGISTRY_VERSION', type: str, default: '2.4.2.Final', doc: 'the managed schema registry release, Apicurio Registry (must match registry/pom.xml)' },
  { name: 'REGISTRY_CACHE_DIR', type: path, default: '${FINK_HOME}/var/cache/apicurio-registry-${REGISTRY_VERSION}', doc: 'where the managed schema registry is built (once, with Maven)' },
  { name: 'REGISTRY_PORT', type: { kind: 'int', min: 1, max: 65535 }, default: '8081', doc: 'port of the managed schema registry (on 127.0.0.1), started with the simulator cluster' },
  { name: 'REGISTRY_HEAP_OPTS', type: str, default: '-Xms64m -Xmx512m', doc: 'JVM heap options of the managed schema registry' },
  { name: 'SIMULATOR_REGISTRY_URL', type: str, default: 'http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7', doc: "the simulator cluster's Confluent-compatible schema registry, where Rubin's alert schemas are registered" },
  { name: 'UPSTREAM_SERVERS', type: { kind: 'list' }, doc: 'bootstrap servers of the survey\'s cluster that fink start stream2science consumes, comma-separated' },
  { name: 'UPSTREAM_SECURITY_PROTOCOL', type: { kind: 'enum', values: ['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL'] }, default: 'PLAINTEXT', doc: 'how stream2science connects upstream (SASL_SSL: Rubin\'s brokers)' },
  { name: 'UPSTREAM_SASL_MECHANISM', type: { kind: 'enum', values: ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] }, default: 'SCRAM-SHA-512', doc: 'the SASL mechanism upstream (with SASL_PLAINTEXT or SASL_SSL)' },
  { name: 'UPSTREAM_SSL_CA_FILE', type: path, doc: "SSL, SASL_SSL: the certificate authority (PEM) of the survey's brokers (unset: the system's)" },
  { name: 'UPSTREAM_SSL_CERT_FILE', type: path, doc: "SSL, SASL_SSL: stream2science's own certificate (PEM), for brokers that ask for one (with UPSTREAM_SSL_KEY_FILE)" },
  { name: 'UPSTREAM_SSL_KEY_FILE', type: path, doc: 'its private key (PEM, unencrypted)' },
  { name: 'UPSTREAM_SASL_USERNAME', type: str, doc: 'stream2science\'s user upstream' },
  { name: 'UPSTREAM_SASL_PASSWORD', type: str, secret: true, doc: 'its password' },
  { name: 'UPSTREAM_GROUP_ID', type: str, default: 'fink-stream2science', doc: 'the upstream consumer group stream2science commits its offsets to (for monitoring: its positions live in the science store); with SCIENCE_STORE=kafka also the key of its positions and its transactional id fink-stream2science-<group> (one instance per group: a second fences the first; with UPSTREAM_INSTANCE_ID, instances share the group\'s partitions instead)' },
  { name: 'UPSTREAM_INSTANCE_ID', type: str, doc: 'SCIENCE_STORE=kafka: shared mode, this instance\'s static membership id in the upstream group UPSTREAM_GROUP_ID (or --instance): instances on several hosts, each with an id of its own, share the upstream partitions as the group\'s coordinator assigns them, each partition written with a transactional id of its own (fink-stream2science-<group>-<topic>-<partition>); unset: one instance reads every partition. Refused with SCIENCE_STORE=sqlite' },
  { name: 'UPSTREAM_POSITIONS_TOPIC', type: str, default: '_fink_stream2science_positions', doc: 'SCIENCE_STORE=kafka: the compacted topic (on the cluster at DISTRIBUTION_SERVERS) holding stream2science\'s upstream positions, keyed by group, topic and partition, written in the transaction of the alerts they cover' },
  { name: 'UPSTREAM_TOPICS', type: { kind: 'list' }, default: 'ztf_.*', doc: 'topics to consume: names or regular expressions matching whole names (ztf_.*: every nightly ZTF topic, new ones included)' },
  { name: 'UPSTREAM_FORMAT', type: { kind: 'list' }, default: 'ztf', doc: 'how upstream messages are framed: ztf (an Avro container file per message) or lsst (Confluent wire format, schemas from UPSTREAM_SCHEMA_REGISTRY); or per topic, PATTERN=FORMAT entries (the first whose pattern matches the whole name)' },
  { name: 'UPSTREAM_SCHEMA_REGISTRY', type: str, doc: 'URL of the Confluent-compatible schema registry of the lsst format (schemas are cached on disk under UPSTREAM_STATE_DIR)' },
  { name: 'UPSTREAM_SCHEMA_RETRIES', type: { kind: 'int', min: 0, max: 1000 }, default: '5', doc: 'how many times a schema id that the registry does not know is asked again (1 s, 2 s, 4 s... apart) before its messages are dead letters' },
  { name: 'UPSTREAM_SCHEMA_REGISTRY_TIMEOUT_MS', type: { kind: 'int', min: 100, max: 600000 }, default: '30000', doc: 'how long one request to UPSTREAM_SCHEMA_REGISTRY may take (an answer over 4 MiB is refused; the stream waits and asks again)' },
  { name: 'UPSTREAM_TOPICS_REFRESH_MS', type: { kind: 'int', min: 100, max: 3600000 }, default: '10000', doc: 'how often stream2science looks for new topics matching UPSTREAM_TOPICS' },
  { name: 'UPSTREAM_STATE_DIR', type: path, default: '${FINK_HOME}/var/stream2science', doc: 'pid file of stream2science, its dead letters (dead-letters.jsonl) and its schema cache (schemas/)' },
  { name: 'UPSTREAM_METRICS_PORT', type: { kind: 'int', min: 0, max: 65535 }, doc: 'serve stream2science\'s Prometheus metrics on this port (unset: no endpoint)' },
  { name: 'CONSOLE_HOST', type: str, default: '127.0.0.1', doc: 'address the console (fink start console) listens on' },
  { name: 'CONSOLE_PORT', type: { kind: 'int', min: 0, max: 65535 }, default: '8480', doc: 'port of the console\'s web page' },
  { name: 'CONSOLE_TOKEN', type: str, secret: true, doc: 'the console\'s access token (16 characters or more): required when CONSOLE_HOST is not a loopback address; when set, every request must carry it (the page asks for it once)' },
  { name: 'CONSOLE_MAX_CLIENTS', type: { kind: 'int', min: 1, max: 1000 }, default: '16', doc: 'live pages the console feeds at once (one more gets 503)' },
] as const satisfies readonly KeySpec[];

/** The name of a configuration key: a name that is not in the table does not compile. */
export type KeyName = (typeof KEYS)[number]['name'];

type EnumKey = Extract<(typeof KEYS)[number], { readonly type: { readonly kind: 'enum' } }>;

/** A key whose values form a closed list in the table. */
export type EnumKeyName = EnumKey['name'];

/** The values the table allows for enumerated key `K`. */
export type EnumValue<K extends EnumKeyName> = Extract<EnumKey, { readonly name: K }>['type']['values'][number];

export const KEY_NAMES: ReadonlySet<string> = new Set(KEYS.map((k) => k.name));

/** The table, seen as specs (the literal table above keeps the names for KeyName). */
export const SPECS: readonly (KeySpec & { readonly name: KeyName })[] = KEYS;

export function isKeyName(name: string): name is KeyName {
  return KEY_NAMES.has(name);
}
