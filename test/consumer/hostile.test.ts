import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compactSchemaJson, parseAvroType } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import { testEnv, runCli } from '../helpers/cli.ts';
import { haveRealData } from '../helpers/data.ts';
import { tempDir } from '../helpers/temp.ts';
import { alertSchema, varint } from '../helpers/hostile.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { produceMessages, realMessages, schemasOf, writeSchemaFiles, type WireMessage } from '../helpers/wire.ts';

const TOPIC = 'hostile_test';

describe('fink start distribution_test on hostile messages', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('each bad message is one escaped line naming partition and offset; the reader goes on to the good ones; exit 1', async (t) => {
    if (!haveRealData(t)) return;
    const schemaBase = join(tempDir('hostile-consumer'), 'schemas', 'distribution_schema.avsc');
    const env = { ...cluster.env, DISTRIBUTION_SCHEMA: schemaBase };
    const config = loadConfig({ env: testEnv(env) });
    const real = realMessages();
    const good = real[0]!;
    const small = alertSchema([{ name: 'xs', type: { type: 'array', items: 'string' } }]);
    const smallType = parseAvroType(small);
    const smallKey = Buffer.from(compactSchemaJson(small));
    writeSchemaFiles(schemaBase, [...schemasOf(real), small]);
    const alert = (objectId: string, xs: string[] = []) => smallType.toBuffer({ objectId, candid: 42n, candidate: { jd: 2460000.5 }, xs });
    const withDoc = JSON.parse(good.key.toString()) as { doc?: string };
    withDoc.doc = 'the same schema, another doc';
    const messages: WireMessage[] = [
      good, // offset 0
      { key: Buffer.from('\u001b[31mnot json\u0007'), value: good.value }, // 1
      { key: good.key, value: good.value.subarray(0, good.value.length - 10) }, // 2
      { key: good.key, value: Buffer.concat([good.value, Buffer.from([0, 0, 0])]) }, // 3
      { key: smallKey, value: Buffer.concat([alert('ZTF24bomb').subarray(0, -1), varint(2n ** 40n)]) }, // 4
      { key: smallKey, value: alert('') }, // 5
      { key: smallKey, value: alert('ZTF\u001b[2J\u009bX', ['a']) }, // 6
      { key: Buffer.from(JSON.stringify(withDoc)), value: good.value }, // 7
      real[real.length - 1]!, // 8
    ];
    await produceMessages(config, TOPIC, messages);

    const run = runCli('fink', ['start', 'distribution_test', '--topic', TOPIC], env);
    assert.equal(run.status, 1, run.stderr);
    const errors = run.stderr.trim().split('\n');
    const at = (offset: number) => errors.find((line) => line.includes(`${TOPIC}/0@${offset}:`)) ?? `(no line for offset ${offset})`;
    assert.match(at(1), /the key is not an Avro schema \(.*\\x1b\[31mnot json\\x07/);
    assert.match(at(2), /the value does not decode with .*\(cut short/);
    assert.match(at(3), /the value does not decode with .*\(3 bytes left over after the alert\)/);
    assert.match(at(4), /the value does not decode with .*\(corrupt \(an array block says 1099511627776 items, more than the 0 bytes left can hold\)\)/);
    assert.match(at(5), /alert 42 has no objectId/);
    assert.match(errors.at(-1)!, /5 messages of hostile_test could not be decoded/);
    assert.equal(errors.length, 6, run.stderr);
    // The good messages, before and after the bad ones, are all shown; the escaped objectId too.
    assert.match(run.stdout, /4 alerts read from topic hostile_test/);
    assert.match(run.stdout, /ZTF\\x1b\[2J\\x9bX/);
    for (const raw of ['\u001b', '\u0007', '\u009b']) {
      assert.equal(run.stdout.includes(raw) || run.stderr.includes(raw), false, `no raw U+${raw.charCodeAt(0).toString(16)} printed`);
    }
  });
});
