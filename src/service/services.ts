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
}

export const DISTRIBUTION_SERVICE: ServiceKind = { name: 'distribution service', named: 'a distribution service', command: 'distribution', idKey: 'DISTRIBUTION_ID', stateDirKey: 'DISTRIBUTION_STATE_DIR', marker: 'distribution' };
export const STREAM2SCIENCE_SERVICE: ServiceKind = { name: 'stream2science', named: 'stream2science', command: 'stream2science', idKey: 'UPSTREAM_GROUP_ID', stateDirKey: 'UPSTREAM_STATE_DIR', marker: 'stream2science' };

/** The configured instance of `kind` on this machine: its id, pid file, and pid if it runs. */
export function serviceProcess(config: Config, kind: ServiceKind): { id: string; identity: string; file: string; pid: number | undefined } {
  const id = config.require(kind.idKey);
  return { id, identity: `${kind.idKey}=${id}`, ...servicePid(config.require(kind.stateDirKey), id, kind.marker) };
}
