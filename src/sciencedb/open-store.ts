// The science store that SCIENCE_STORE names, opened for a command that writes alerts.
import type { Config } from '../config/config.ts';
import type { TopicSettings } from '../kafka/topics.ts';
import type { AlertStore } from './alert-store.ts';
import { scienceLogSettings } from './log-settings.ts';
import { GatheredWrites } from './log-gather.ts';
import { ScienceLogWriter } from './log-writer.ts';
import { ScienceWriter } from './store.ts';

export interface OpenedStore {
  store: AlertStore;
  kind: 'sqlite' | 'kafka';
  /** Where the alerts go, for the command's last line. */
  where: string;
  /**
   * At most this many bytes of alerts per write; undefined: the command's own. The log's writes
   * are gathered into transactions of at most that (log-gather.ts).
   */
  writeBytes: number | undefined;
}

/** `role` names the writer (ingest, simulate) in the log's transactional ids; `onCreated` is told each log topic it creates. */
export function openStore(config: Config, role: string, onCreated?: (topic: string, settings: TopicSettings) => void): OpenedStore {
  if (config.enum('SCIENCE_STORE') === 'sqlite') {
    const dir = config.require('SCIENCE_DB_PATH');
    return { store: new ScienceWriter(dir), kind: 'sqlite', where: dir, writeBytes: undefined };
  }
  const settings = scienceLogSettings(config);
  const onRetry = (reason: string, waitMs: number) => process.stderr.write(`fink ${role}: the science log's write failed (${reason}): asked again in ${(waitMs / 1000).toFixed(1)} s (a broker of the cluster lost; for up to 5 minutes)\n`);
  const writer = new ScienceLogWriter(settings, { role, onRetry, ...(onCreated === undefined ? {} : { onCreated }) });
  const store = new GatheredWrites(writer, settings.transactionBytes);
  const where = `the science log (topics ${settings.prefix}<survey>) at ${settings.connection.bootstrapBrokers.join(',')}`;
  return { store, kind: 'kafka', where, writeBytes: settings.transactionBytes };
}

/** A command's line for a log topic its writer created (on stderr: stdout is the command's result). */
export function createdLine(command: string): (topic: string, settings: TopicSettings) => void {
  return (topic, { partitions, replicationFactor, configs = {} }) => {
    const listed = Object.entries(configs).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stderr.write(`fink ${command}: created topic ${topic}: ${partitions} partitions, replication ${replicationFactor}, ${listed}\n`);
  };
}
