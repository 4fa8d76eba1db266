// The stored alerts of one survey, from the store SCIENCE_STORE names, for a command that looks at
// them without distributing them (`fink filter test`): the SQLite nights read in sequence, or the
// science log read from its first offsets to its stable ends at read_committed. A record of the log
// that is not an alert is named (topic, partition, offset) and passed over; an alert that the log
// holds twice (a commit whose answer was lost, written again) is seen once.
import type { AlertView, Survey } from '../alert/survey.ts';
import type { Config } from '../config/config.ts';
import { kafkaClientOptions } from '../kafka/client-options.ts';
import { isUnreachable, unreachableError } from '../kafka/errors.ts';
import { readTopic } from '../kafka/topic-reader.ts';
import { decodeLogAlert, LogRecordError, scienceTopic } from '../sciencedb/log-format.ts';
import { openReader, type Checkpoint } from '../sciencedb/reader.ts';

export interface StoredAlertsOptions {
  /** Only the alerts of this night (YYYYMMDD). */
  night?: string;
  /** Told of each record of the log that is not an alert (its message names it). */
  onNotAlert?: (err: LogRecordError) => void;
}

/** The survey's alerts in the SQLite nights at SCIENCE_DB_PATH, as they are when reading starts. */
function* sqliteAlerts(config: Config, survey: Survey, night: string | undefined): Generator<AlertView> {
  const reader = openReader(config.require('SCIENCE_DB_PATH'));
  try {
    const head = reader.head();
    // Nights absent from `until` are not read: one night, or all of them as they are now.
    const until: Checkpoint = night === undefined ? head : head[night] === undefined ? {} : { [night]: head[night] };
    let after: Checkpoint = {};
    for (;;) {
      const { alerts, checkpoint } = reader.read(after, 2000, until);
      if (alerts.length === 0) return;
      after = checkpoint;
      for (const alert of alerts) if (alert.survey === survey) yield alert;
    }
  } finally {
    reader.close();
  }
}

/** The survey's alerts in the science log, each once, up to the stable ends seen when reading starts. */
async function* logAlerts(config: Config, survey: Survey, options: StoredAlertsOptions): AsyncGenerator<AlertView> {
  const connection = kafkaClientOptions(config);
  const topic = scienceTopic(config.get('SCIENCE_TOPIC_PREFIX') ?? '', survey);
  const seen = new Set<bigint>();
  try {
    for await (const m of readTopic(connection, topic, { partitionMaxBytes: 16 << 20 })) {
      if (m.value === null) continue;
      let alert: AlertView;
      try {
        alert = decodeLogAlert(survey, m.value, `${m.topic}/${m.partition}@${m.offset}`);
      } catch (err) {
        if (!(err instanceof LogRecordError)) throw err;
        options.onNotAlert?.(err);
        continue;
      }
      if (seen.has(alert.alertId)) continue;
      seen.add(alert.alertId);
      if (options.night === undefined || alert.night === options.night) yield alert;
    }
  } catch (err) {
    throw isUnreachable(err) ? unreachableError(connection.bootstrapBrokers, err) : err;
  }
}

/** The survey's stored alerts, from the store that SCIENCE_STORE names. */
export function storedAlerts(config: Config, survey: Survey, options: StoredAlertsOptions = {}): AsyncIterable<AlertView> | Iterable<AlertView> {
  return config.enum('SCIENCE_STORE') === 'kafka' ? logAlerts(config, survey, options) : sqliteAlerts(config, survey, options.night);
}
