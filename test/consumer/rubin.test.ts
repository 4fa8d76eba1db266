// `fink start distribution_test` on a topic carrying both surveys: Rubin's sample alerts (and
// variants with 64-bit ids and cutouts) between real ZTF alerts, read by the command as a user runs
// it, shown with each survey's columns, and saved as Avro and Parquet with their values exact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readContainer } from '../../src/avro/container.ts';
import { parseAvroType, schemaFingerprint, type RecordSchema } from '../../src/avro/schema.ts';
import { loadConfig } from '../../src/config/config.ts';
import { runCli, testEnv } from '../helpers/cli.ts';
import { haveLsstData, haveRealData } from '../helpers/data.ts';
import { withTestCluster, type TestCluster } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { lsstMessages, produceMessages, realMessages, schemasOf, writeSchemaFiles, type LsstMessage, type WireMessage } from '../helpers/wire.ts';

const TOPIC = 'mixed_surveys';

const fingerprintOf = (m: WireMessage) => schemaFingerprint(parseAvroType(JSON.parse(m.key.toString()) as RecordSchema));

describe('fink start distribution_test on Rubin and ZTF alerts', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  withTestCluster((started) => {
    cluster = started;
  });

  test('each survey under its own titled header, every time the survey changes; Avro and Parquet files per schema, exact', async (t) => {
    if (!haveLsstData(t) || !haveRealData(t)) return;
    const dir = tempDir('rubin-consumer');
    const schemaBase = join(dir, 'schemas', 'distribution_schema.avsc');
    const env = { ...cluster.env, DISTRIBUTION_SCHEMA: schemaBase };
    const rubin = lsstMessages();
    const ztf = realMessages();
    // ZTF, then every Rubin alert, then ZTF again: two changes of survey.
    const messages: WireMessage[] = [ztf[0]!, ztf[1]!, ...rubin, ztf[2]!];
    writeSchemaFiles(schemaBase, schemasOf(messages));
    await produceMessages(loadConfig({ env: testEnv(env) }), TOPIC, messages);

    const run = runCli('fink', ['start', 'distribution_test', '--topic', TOPIC], env);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    const titles = lines.filter((l) => l === 'ZTF alerts' || l === 'Rubin alerts');
    assert.deepEqual(titles, ['ZTF alerts', 'Rubin alerts', 'ZTF alerts'], run.stdout);
    const rubinAt = lines.indexOf('Rubin alerts');
    assert.match(lines[rubinAt + 1]!, /^\s*diaSourceId\s+diaObjectId\s+midpointMjdTai\s+ra\s+dec\s+band\s+psfFlux\s+snr\s+reliability$/);
    const rubinRows = lines.slice(rubinAt + 3, rubinAt + 3 + rubin.length);
    // The row of each Rubin alert: its 64-bit ids in full, the sample's diaSource values.
    rubin.forEach((m, i) => {
      const cells = rubinRows[i]!.trim().split(/\s+/);
      assert.equal(cells[0], String(m.diaSourceId), rubinRows[i]);
      assert.equal(cells[1], String(m.diaObjectId ?? 'null'), rubinRows[i]);
      assert.deepEqual(cells.slice(2), ['60902.993305', cells[3], cells[4], 'r', '1241.00', '41.10', 'null'], rubinRows[i]);
    });
    assert.match(lines[lines.indexOf('ZTF alerts') + 1]!, /^\s*objectId\s+candid\s+jd/);
    assert.match(run.stdout, new RegExp(`${messages.length} alerts read from topic ${TOPIC}`));
    for (const version of ['v9_0', 'v10_0', 'v11_0']) assert.match(run.stdout, new RegExp(`schema [0-9a-f]{16} \\(Rubin lsst\\.${version}\\.alert\\): \\d alerts`));

    // Saved: one file per schema; the first schema's is FILE, the others FILE-<fingerprint>.
    const order = [...new Set(messages.map(fingerprintOf))];
    const fileOf = (out: string, ext: string, fingerprint: string) => (fingerprint === order[0] ? out : out.replace(ext, `-${fingerprint}${ext}`));
    const rubinBySchema = Map.groupBy(rubin, fingerprintOf);

    const avro = join(dir, 'alerts.avro');
    const saved = runCli('fink', ['start', 'distribution_test', '--topic', TOPIC, '--rows', '0', '--out', avro], env);
    assert.equal(saved.status, 0, saved.stderr);
    for (const [fingerprint, group] of rubinBySchema) {
      const container = readContainer(readFileSync(fileOf(avro, '.avro', fingerprint)));
      const datums = [...container.blocks()].flatMap((b) => {
        const type = parseAvroType(container.schema);
        const out: Buffer[] = [];
        for (let pos = 0; pos < b.data.length;) {
          const { offset } = type.decode(b.data, pos);
          out.push(b.data.subarray(pos, offset));
          pos = offset;
        }
        return out;
      });
      assert.deepEqual(datums, group.map((m) => m.value), `${fingerprint}: the datums as they were sent`);
    }

    const parquet = join(dir, 'alerts.parquet');
    const savedParquet = runCli('fink', ['start', 'distribution_test', '--topic', TOPIC, '--rows', '0', '--out', parquet], env);
    assert.equal(savedParquet.status, 0, savedParquet.stderr);
    const duck = await import('@duckdb/node-api');
    const db = await duck.DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      for (const [fingerprint, group] of rubinBySchema) {
        const file = fileOf(parquet, '.parquet', fingerprint);
        const rows = (await connection.runAndReadAll(`SELECT diaSourceId, typeof(diaSourceId) AS idType, diaSource.diaObjectId AS diaObjectId,
          diaSource.psfFlux AS psfFlux, typeof(diaSource.psfFlux) AS fluxType, diaSource.midpointMjdTai AS mjd,
          cutoutDifference, cutoutScience, cutoutTemplate FROM read_parquet('${file}')`)).getRowObjects();
        const blob = (v: unknown) => (v === null ? null : Buffer.from((v as { bytes: Uint8Array }).bytes));
        assert.deepEqual(rows.map((r) => ({
          diaSourceId: r.diaSourceId, idType: r.idType, diaObjectId: r.diaObjectId, psfFlux: r.psfFlux, fluxType: r.fluxType, mjd: r.mjd,
          cutouts: [blob(r.cutoutDifference), blob(r.cutoutScience), blob(r.cutoutTemplate)],
        })), group.map((m: LsstMessage) => ({
          diaSourceId: m.diaSourceId, idType: 'BIGINT', diaObjectId: m.diaObjectId, psfFlux: Math.fround(1241), fluxType: 'FLOAT', mjd: 60902.993305483615, cutouts: m.cutouts,
        })), `${file}: bigint ids, 32-bit floats, bytes`);
      }
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  });
});
