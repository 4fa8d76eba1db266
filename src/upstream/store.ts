// The science store stream2science writes to, as SCIENCE_STORE names it: both take the same
// positioned messages (src/sciencedb/positions.ts UpstreamStore), so the service's loop does not
// know which one it feeds.
import { LogPositionStore } from '../sciencedb/log-positions.ts';
import { SharedLogPositionStore } from '../sciencedb/log-shared-positions.ts';
import { SqlitePositionStore, type UpstreamStore } from '../sciencedb/positions.ts';
import type { Stream2ScienceSettings } from './settings.ts';

export function openUpstreamStore(settings: Pick<Stream2ScienceSettings, 'store' | 'scienceDbPath' | 'groupId' | 'instanceId'>): UpstreamStore {
  const { store } = settings;
  if (store.kind === 'sqlite') return new SqlitePositionStore(settings.scienceDbPath);
  // Shared mode: a writer per upstream partition held, rather than one for the group.
  if (settings.instanceId !== undefined) return new SharedLogPositionStore(store.log, store.positionsTopic, settings.groupId);
  return new LogPositionStore(store.log, store.positionsTopic, settings.groupId);
}

/** Where the alerts go, for the start line. */
export function storeDescription(settings: Pick<Stream2ScienceSettings, 'store' | 'scienceDbPath'>): string {
  const { store } = settings;
  if (store.kind === 'sqlite') return settings.scienceDbPath;
  return `the science log (topics ${store.log.prefix}<survey>, positions in ${store.positionsTopic}) at ${store.log.connection.bootstrapBrokers.join(',')}`;
}
