// Cases of stream2science's decoder (src/upstream/decode.ts): the poison shapes as ZTF messages (a
// container each) or Rubin ones (a Confluent message whose writer schema the registry serves), and
// what a registry may serve or not: a hostile schema (mutated, garbage, not a record, nested into
// millions of values) and an id it does not know. Real Rubin messages decode beside them.
import { encodeContainer } from '../../src/avro/container.ts';
import type { UpstreamFormat } from '../../src/upstream/settings.ts';
import { nestedRecordsSchema } from '../helpers/poison-alerts.ts';
import type { WireMessage } from '../helpers/wire.ts';
import { mutateSchemaText, realSources } from './cases.ts';
import { int, pick, rng } from './rng.ts';
import { poisonAlert, POISON_KINDS } from './poison-cases.ts';

export const UPSTREAM_KINDS = [...POISON_KINDS, 'registry-hostile', 'registry-unknown', 'real'] as const;
export type UpstreamKind = (typeof UPSTREAM_KINDS)[number];

export interface UpstreamCase {
  kind: UpstreamKind;
  format: UpstreamFormat;
  /** A ZTF message; for Rubin, the datum that follows the schema id. */
  value: Buffer;
  /** The text the registry serves for the message's schema id; null: the registry does not know it. */
  served: string | null;
}

// JSON that is no alert schema, and text that is no JSON.
const NOT_ALERTS = ['"string"', '[]', 'null', '{}', '{"type":"array","items":"null"}', '{"type":"record","name":"x","fields":[]}', '{"type":"record","name":"alert","namespace":"lsst.v9_0","fields":7}', 'not json', ''];

function hostileSchema(r: () => number, real: WireMessage): string {
  switch (int(r, 4)) {
    case 0: return mutateSchemaText(r, real.key.toString());
    case 1: return pick(r, NOT_ALERTS);
    case 2: return Buffer.from(Array.from({ length: int(r, 200) }, () => int(r, 256))).toString('latin1');
    default: return JSON.stringify({ ...nestedRecordsSchema(3 + int(r, 8), 2 + int(r, 15)), name: 'alert', namespace: 'lsst.v9_0' });
  }
}

export function upstreamCase(seed: number, index: number, reals: readonly WireMessage[], rubin: readonly WireMessage[]): UpstreamCase {
  const r = rng(seed, index);
  const kind = pick(r, UPSTREAM_KINDS);
  const real = pick(r, rubin.length > 0 ? rubin : reals);
  switch (kind) {
    case 'registry-hostile': return { kind, format: 'lsst', value: r() < 0.5 ? real.value : Buffer.alloc(int(r, 64)), served: hostileSchema(r, real) };
    case 'registry-unknown': return { kind, format: 'lsst', value: real.value, served: null };
    case 'real':
      if (rubin.length > 0) return { kind, format: 'lsst', value: real.value, served: real.key.toString() };
      return { kind, format: 'ztf', value: pick(r, realSources()).file, served: null };
    default: {
      const poison = poisonAlert(r, kind, BigInt(index + 1), reals);
      if (r() < 0.5) return { kind, format: 'ztf', value: encodeContainer(poison.schema, [poison.datum]), served: null };
      return { kind, format: 'lsst', value: poison.datum, served: JSON.stringify(poison.schema) };
    }
  }
}
