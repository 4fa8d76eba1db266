// stream2science's decoder on poison messages: each is a reason for the dead-letter file, never an
// error that stops the stream. The Rubin writer schemas come from a real local HTTP server speaking
// the registry's API (test/helpers/schema-server.ts), so a hostile schema reaches the real client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { encodeContainer } from '../../src/avro/container.ts';
import { silentLogger } from '../../src/log.ts';
import { SchemaCache } from '../../src/sciencedb/decode.ts';
import { decodeMessage, type Decoders } from '../../src/upstream/decode.ts';
import { RegistrySchemaCache } from '../../src/upstream/schema-cache.ts';
import { alertSchema } from '../helpers/hostile.ts';
import { LSST_MINI_SCHEMA, lsstDatum, nestedRecordsDatum, nestedRecordsSchema, nullRecordsDatum, nullRecordsSchema, ztfDatum } from '../helpers/poison-alerts.ts';
import { startSchemaServer, type SchemaServer } from '../helpers/schema-server.ts';
import { tempDir } from '../helpers/temp.ts';

const RUBIN = 1;
const NESTED = 2;
const NULL_RECORDS = 3;

describe("stream2science's decoder turns each poison into a reason", () => {
  let server: SchemaServer;
  let decoders: Decoders;
  before(async () => {
    server = await startSchemaServer(new Map([
      [RUBIN, JSON.stringify(LSST_MINI_SCHEMA)],
      [NESTED, JSON.stringify(nestedRecordsSchema())],
      [NULL_RECORDS, JSON.stringify(nullRecordsSchema())],
    ]));
    decoders = { schemas: new SchemaCache(), registry: new RegistrySchemaCache(server.url, tempDir('poison-decode'), { retries: 0, log: silentLogger }) };
  });
  after(() => server.close());

  /** The reason decodeMessage gives (it must not throw, nor decode the poison). */
  async function reason(format: 'ztf' | 'lsst', value: Buffer): Promise<string> {
    const decoded = await decodeMessage(format, value, decoders);
    assert.ok('reason' in decoded, 'the poison was decoded');
    return decoded.reason;
  }

  test('a Rubin alert whose midpointMjdTai is NaN, infinite or 1e12 is a reason naming the diaSourceId and the value', async () => {
    for (const [id, mjd] of [[11n, Number.NaN], [12n, Number.POSITIVE_INFINITY], [13n, 1e12]] as const) {
      assert.match(await reason('lsst', encodeConfluent(RUBIN, lsstDatum(id, mjd))), new RegExp(`^lsst format: alert diaSourceId ${id}: diaSource\\.midpointMjdTai ${mjd} is not a time`));
    }
    // A good one beside them decodes.
    const good = await decodeMessage('lsst', encodeConfluent(RUBIN, lsstDatum(14n, 61000.2)), decoders);
    assert.ok('alerts' in good && good.alerts[0]!.alertId === 14n);
  });

  test('a ZTF message whose jd is 1e12 is a reason naming the candid', async () => {
    assert.match(await reason('ztf', encodeContainer(alertSchema(), [ztfDatum(21n, 1e12)])), /alert candid 21: candidate\.jd 1000000000000 is not a time/);
  });

  test('a writer schema from the registry that expands to 10^8 values is a reason, not a decode', async () => {
    assert.match(await reason('lsst', encodeConfluent(NESTED, nestedRecordsDatum(31n))), /^lsst format: .*expands to 111111116 values/);
  });

  test('items that take no bytes, under a schema from the registry, are a reason once past the budget', async () => {
    assert.match(await reason('lsst', encodeConfluent(NULL_RECORDS, nullRecordsDatum(41n, 900_000))), /^lsst format: builds more than \d+ values/);
    assert.match(await reason('ztf', encodeContainer(nullRecordsSchema(), [nullRecordsDatum(42n, 900_000)])), /builds more than \d+ values/);
  });
});
