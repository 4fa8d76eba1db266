// What stream2science reads of the configuration, resolved once by the entry point: the upstream
// cluster, its topics (names or patterns) and how each topic's messages are framed.
import type { Config } from '../config/config.ts';
import { UsageError } from '../errors.ts';
import { upstreamClientOptions, type KafkaConnection } from '../kafka/client-options.ts';
import { patternEntries, topicPattern } from '../config/topic-patterns.ts';
import { scienceLogSettings, type ScienceLogSettings } from '../sciencedb/log-settings.ts';

/** ztf: each message an Avro container file; lsst: the Confluent wire format with a schema registry. */
export type UpstreamFormat = 'ztf' | 'lsst';
const FORMATS: readonly UpstreamFormat[] = ['ztf', 'lsst'];

export interface Stream2ScienceSettings {
  connection: KafkaConnection;
  groupId: string;
  /** Topics to consume: each matches whole topic names. */
  topics: readonly RegExp[];
  /** UPSTREAM_TOPICS as written, for the lines that name it. */
  topicTexts: readonly string[];
  /** The format of a topic: the first entry whose pattern matches its whole name. */
  formats: readonly { pattern: RegExp; format: UpstreamFormat }[];
  registry: string | undefined;
  schemaRetries: number;
  /** One registry request's timeout. */
  registryTimeoutMs: number;
  refreshMs: number;
  stateDir: string;
  scienceDbPath: string;
  /** Where the alerts and positions go (SCIENCE_STORE): the SQLite nights at scienceDbPath, or the science log. */
  store: UpstreamStoreSettings;
  /**
   * Shared mode (UPSTREAM_INSTANCE_ID or --instance): this instance's static membership of the
   * upstream group, whose partitions it shares with the group's other instances; undefined: one
   * instance reads every partition.
   */
  instanceId: string | undefined;
}

export type UpstreamStoreSettings = { kind: 'sqlite' } | { kind: 'kafka'; log: ScienceLogSettings; positionsTopic: string };

function storeSettings(config: Config): UpstreamStoreSettings {
  if (config.enum('SCIENCE_STORE') === 'sqlite') return { kind: 'sqlite' };
  return { kind: 'kafka', log: scienceLogSettings(config), positionsTopic: config.require('UPSTREAM_POSITIONS_TOPIC') };
}

function parseFormats(entries: readonly string[]): Stream2ScienceSettings['formats'] {
  if (entries.length === 0) throw new UsageError('UPSTREAM_FORMAT is empty: say ztf, lsst, or PATTERN=FORMAT entries');
  return patternEntries(entries, 'UPSTREAM_FORMAT', FORMATS).map(({ pattern, value }) => ({ pattern, format: value }));
}

export function formatOf(settings: Pick<Stream2ScienceSettings, 'formats'>, topic: string): UpstreamFormat | undefined {
  return settings.formats.find((f) => f.pattern.test(topic))?.format;
}

export function wantedTopic(settings: Pick<Stream2ScienceSettings, 'topics'>, topic: string): boolean {
  // Kafka's internal topics (__consumer_offsets...) never carry alerts, whatever a pattern says.
  return !topic.startsWith('__') && settings.topics.some((p) => p.test(topic));
}

/** The shared mode's instance id (the flag before the key), refused without the science log. */
function instanceIdOf(config: Config, flag: string | undefined): string | undefined {
  const id = flag ?? (config.get('UPSTREAM_INSTANCE_ID') || undefined);
  if (id === undefined) return undefined;
  if (config.enum('SCIENCE_STORE') !== 'kafka') throw new UsageError(`UPSTREAM_INSTANCE_ID (${id}) shares the upstream partitions between instances, which needs the science log: set SCIENCE_STORE=kafka (the SQLite science database is written by one instance)`);
  return id;
}

/** `instanceId`: the --instance flag, which overrides UPSTREAM_INSTANCE_ID. */
export function stream2scienceSettings(config: Config, flags: { instanceId?: string } = {}): Stream2ScienceSettings {
  const formats = parseFormats(config.list('UPSTREAM_FORMAT'));
  const registry = config.get('UPSTREAM_SCHEMA_REGISTRY') || undefined;
  if (registry === undefined && formats.some((f) => f.format === 'lsst')) throw new UsageError('UPSTREAM_FORMAT names lsst but UPSTREAM_SCHEMA_REGISTRY is not set: the lsst format needs the registry of its schemas');
  const topicTexts = config.list('UPSTREAM_TOPICS');
  const topics = topicTexts.map((t) => topicPattern(t, 'UPSTREAM_TOPICS'));
  if (topics.length === 0) throw new UsageError('UPSTREAM_TOPICS is empty: name the topics (or patterns such as ztf_.*) to consume');
  return {
    connection: upstreamClientOptions(config),
    groupId: config.require('UPSTREAM_GROUP_ID'),
    topics,
    topicTexts,
    formats,
    registry,
    schemaRetries: config.int('UPSTREAM_SCHEMA_RETRIES'),
    registryTimeoutMs: config.int('UPSTREAM_SCHEMA_REGISTRY_TIMEOUT_MS'),
    refreshMs: config.int('UPSTREAM_TOPICS_REFRESH_MS'),
    stateDir: config.require('UPSTREAM_STATE_DIR'),
    scienceDbPath: config.require('SCIENCE_DB_PATH'),
    store: storeSettings(config),
    instanceId: instanceIdOf(config, flags.instanceId),
  };
}
