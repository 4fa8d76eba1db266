// Replays exposures on the simulator cluster at the survey's cadence: one exposure every interval
// (its alerts sent together, as the survey's alert system does after each exposure), the next one
// scheduled from the start of the replay so that slow sends do not stretch the night.
import { Producer } from '@platformatic/kafka';
import { closeQuietly } from '../kafka/client-options.ts';
import { ensureTopic } from '../kafka/topics.ts';
import { pause } from '../pause.ts';
import type { Exposure } from './exposures.ts';
import { SurveyEncoder } from './messages.ts';
import type { SimulatorSettings } from './settings.ts';

/** Bytes of messages per produce request: a Rubin visit is hundreds of MB. */
const SEND_BYTES = 8 * 1024 * 1024;

export interface ExposureSent {
  /** 1-based, over the whole replay (loops included). */
  number: number;
  id: number | bigint;
  alerts: number;
  topics: string[];
  /** Alerts sent per second of sending for this exposure. */
  rate: number;
}

export interface ReplayOptions {
  /** Milliseconds between the starts of two exposures (already divided by the speed). */
  intervalMs: number;
  /** Replays the exposures again from the first after the last, until stopped. */
  loop?: boolean;
  /** Stops after the exposure in flight. */
  signal?: AbortSignal;
  onExposure?: (sent: ExposureSent) => void;
}

export interface ReplayReport {
  exposures: number;
  alerts: number;
  topics: string[];
  stopped: boolean;
}

/** Sends the exposures of `source()` (called again for each loop) to the simulator cluster. */
export async function replay(settings: SimulatorSettings, source: () => Iterable<Exposure>, options: ReplayOptions): Promise<ReplayReport> {
  const { connection, partitions, registryUrl } = settings;
  const producer = new Producer({ clientId: 'fink-simulator', ...connection, retries: 20, retryDelay: 500 });
  const encoder = new SurveyEncoder(registryUrl);
  const topics = new Map<string, number>();
  const report: ReplayReport = { exposures: 0, alerts: 0, topics: [], stopped: false };
  const start = Date.now();
  try {
    do {
      for (const exposure of source()) {
        const due = start + report.exposures * options.intervalMs;
        if (report.exposures > 0 && due > Date.now()) await pause(due - Date.now(), options.signal);
        if (options.signal?.aborted === true) break;
        const began = performance.now();
        let batch: { topic: string; partition: number; value: Buffer }[] = [];
        let bytes = 0;
        const exposureTopics = new Set<string>();
        for (const { alert, topic } of exposure.alerts) {
          if (!topics.has(topic)) {
            await ensureTopic(connection, topic, { partitions, replicationFactor: 1 });
            topics.set(topic, 0);
          }
          // Round robin over the partitions: every partition used, an exposure's alerts spread.
          const sent = topics.get(topic)!;
          topics.set(topic, sent + 1);
          const value = await encoder.encode(alert, topic);
          batch.push({ topic, partition: sent % partitions, value });
          exposureTopics.add(topic);
          bytes += value.length;
          if (bytes >= SEND_BYTES) {
            await producer.send({ messages: batch });
            batch = [];
            bytes = 0;
          }
        }
        if (batch.length > 0) await producer.send({ messages: batch });
        report.exposures++;
        report.alerts += exposure.alerts.length;
        const seconds = (performance.now() - began) / 1000;
        options.onExposure?.({ number: report.exposures, id: exposure.id, alerts: exposure.alerts.length, topics: [...exposureTopics], rate: exposure.alerts.length / Math.max(seconds, 1e-3) });
      }
    } while (options.loop === true && options.signal?.aborted !== true);
  } finally {
    await closeQuietly(producer);
  }
  report.stopped = options.signal?.aborted === true;
  report.topics = [...topics.keys()].sort();
  return report;
}
