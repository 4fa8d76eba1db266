// The two long-running services of this machine, as their start, stop and console commands find
// them: the configuration keys of their id and state folder, and the marker of their process.
import type { Config } from '../config/config.ts';
import { servicePid } from '../pidfile.ts';

export interface ServiceKind {
  /** How messages name it: `no distribution service with DISTRIBUTION_ID=x is running`. */
  name: string;
  /** The same with its article, as the "already runs" error starts. */
  named: string;
  /** `fink start <command>`, `fink stop <command>`. */
  command: string;
  idKey: 'DISTRIBUTION_ID' | 'UPSTREAM_GROUP_ID';
  stateDirKey: 'DISTRIBUTION_STATE_DIR' | 'UPSTREAM_STATE_DIR';
  /** What marks its process in /proc/<pid>/cmdline. */
  marker: string;
  /** The port of its Prometheus endpoint (unset or empty: none). */
  metricsPortKey: 'DISTRIBUTION_METRICS_PORT' | 'UPSTREAM_METRICS_PORT';
  /** What a second signal leaves behind, said as it exits at once. */
  onSecondSignal: string;
}

export const DISTRIBUTION_SERVICE: ServiceKind = { name: 'distribution service', named: 'a distribution service', command: 'distribution', idKey: 'DISTRIBUTION_ID', stateDirKey: 'DISTRIBUTION_STATE_DIR', marker: 'distribution', metricsPortKey: 'DISTRIBUTION_METRICS_PORT', onSecondSignal: 'the open transaction is aborted by Kafka' };
export const STREAM2SCIENCE_SERVICE: ServiceKind = { name: 'stream2science', named: 'stream2science', command: 'stream2science', idKey: 'UPSTREAM_GROUP_ID', stateDirKey: 'UPSTREAM_STATE_DIR', marker: 'stream2science', metricsPortKey: 'UPSTREAM_METRICS_PORT', onSecondSignal: 'what was not committed is read again on restart' };

/** The configured instance of `kind` on this machine: its id, pid file, and pid if it runs. */
export function serviceProcess(config: Config, kind: ServiceKind): { id: string; identity: string; file: string; pid: number | undefined } {
  const id = config.require(kind.idKey);
  return { id, identity: `${kind.idKey}=${id}`, ...servicePid(config.require(kind.stateDirKey), id, kind.marker) };
}
