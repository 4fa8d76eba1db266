// @platformatic/kafka clients look each protocol API up through kGetApi, which picks the highest
// version the broker offers. Replacing what that lookup hands out for one API is how this project
// sets a version or sees a response before the client acts on it.
// Workaround of @platformatic/kafka 2.12.1, which has no public way to do either: kGetApi is an
// internal symbol that the package exports. It serves the AddPartitionsToTxn v3 pin
// (transactional-producer.ts) and the Fetch responses kept as sent and read with bounded inflation
// (topic-reader.ts, bounded-fetch.ts); it can go with the last of them. test/kafka/library-workarounds.test.ts fails if the symbol disappears.
import { kGetApi } from '@platformatic/kafka';

/** A protocol API as the client calls it: (connection, ...request fields, callback). */
export type ApiCall = ((connection: unknown, ...args: unknown[]) => void) & { version: number };
type GetApi = (name: string, callback: (error: Error | null, api?: ApiCall) => void) => void;

/**
 * From now on `client` calls `override(api)` where it would call API `name`. The lookup still
 * happens, so that a broker without the API is reported as before.
 */
export function overrideApi(client: object, name: string, override: (api: ApiCall) => ApiCall): void {
  const target = client as unknown as Record<symbol, GetApi>;
  const getApi = target[kGetApi]!.bind(client);
  target[kGetApi] = (wanted, callback) => {
    if (wanted !== name) return getApi(wanted, callback);
    getApi(wanted, (error, api) => (error !== null || api === undefined ? callback(error) : callback(null, override(api))));
  };
}
