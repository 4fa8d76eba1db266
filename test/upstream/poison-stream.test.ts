// The poison alerts of issue 21 on upstream topics, among good alerts, end to end: a ZTF topic
// (each message an Avro container file) and a Rubin topic (the Confluent wire format, its schemas
// in the managed registry, Apicurio) on a real Kafka, read by `fink start stream2science
// --until-caught-up` as the service runs (its own heap bound). The run stays up, stores every good
// alert once, and dead-letters every poison by topic, partition and offset with its reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeConfluent } from '../../src/avro/confluent-wire.ts';
import { encodeContainer } from '../../src/avro/container.ts';
import { registerSchema } from '../../src/avro/schema-registry.ts';
import { runFink } from '../helpers/cli.ts';
import { haveLsstData } from '../helpers/data.ts';
import { alertSchema } from '../helpers/hostile.ts';
import type { TestCluster } from '../helpers/kafka.ts';
import { LSST_MINI_SCHEMA, lsstDatum, nestedRecordsDatum, nestedRecordsSchema, nullRecordsDatum, nullRecordsSchema, ztfDatum } from '../helpers/poison-alerts.ts';
import { withClusterAndRegistry, type TestRegistry } from '../helpers/registry.ts';
import { produceUpstream, simulatedZtfAlerts, storedDatums, stream2scienceSetup } from '../helpers/upstream.ts';
import { lsstMessagesOnePerId } from '../helpers/wire.ts';

let cluster: TestCluster;
let registry: TestRegistry;
withClusterAndRegistry((c, r) => void ([cluster, registry] = [c, r]));

/** A poison as sent: its message and what its dead letter must say. */
interface SentPoison {
  name: string;
  message: Buffer;
  reason: RegExp;
}

/** A topic's messages: good alerts (id, datum) and poisons, each poison after a good alert. */
interface Interleaved {
  messages: Buffer[];
  good: Map<bigint, Buffer>;
  /** The poisons by the offset they land at (one partition). */
  poisons: Map<number, SentPoison>;
}

function interleave(good: readonly { id: bigint; datum: Buffer; message: Buffer }[], poisons: readonly SentPoison[]): Interleaved {
  const out: Interleaved = { messages: [], good: new Map(), poisons: new Map() };
  good.forEach((g, i) => {
    out.messages.push(g.message);
    out.good.set(g.id, g.datum);
    const poison = poisons[i];
    if (poison === undefined) return;
    out.poisons.set(out.messages.length, poison);
    out.messages.push(poison.message);
  });
  assert.equal(out.poisons.size, poisons.length, 'fewer good alerts than poisons');
  return out;
}

/** ZTF: simulated alerts and the poisons, each a container file as ZTF's upstream sends them. */
function ztfTopic(): Interleaved {
  const good = simulatedZtfAlerts(12, 41, '20260125').map((a) => ({ id: a.alertId, datum: a.datum, message: a.message }));
  const truncated = good[0]!.message.subarray(0, good[0]!.message.length - 40);
  return interleave(good, [
    { name: 'items of no bytes', message: encodeContainer(nullRecordsSchema(), [nullRecordsDatum(9_000_001n, 900_000)]), reason: /builds more than \d+ values/ },
    { name: 'nested named records', message: encodeContainer(nestedRecordsSchema(), [nestedRecordsDatum(9_000_002n)]), reason: /expands to 111111116 values/ },
    { name: 'jd 1e12', message: encodeContainer(alertSchema(), [ztfDatum(9_000_003n, 1e12)]), reason: /alert candid 9000003: candidate\.jd 1000000000000 is not a time/ },
    { name: 'jd NaN', message: encodeContainer(alertSchema(), [ztfDatum(9_000_004n, Number.NaN)]), reason: /alert candid 9000004: candidate\.jd NaN is not a time/ },
    { name: 'truncated', message: truncated, reason: /truncated|corrupt/ },
    { name: 'not Avro', message: Buffer.from('not an Avro container at all'), reason: /not an Avro container file/ },
  ]);
}

/** Rubin: the samples (one per diaSourceId) and the poisons, their schemas registered in the managed registry. */
async function rubinTopic(topic: string): Promise<Interleaved> {
  const ids = new Map<string, number>();
  const register = async (text: string): Promise<number> => {
    let id = ids.get(text);
    if (id === undefined) ids.set(text, (id = await registerSchema(registry.url, `${topic}-${ids.size}-value`, text)));
    return id;
  };
  const good: { id: bigint; datum: Buffer; message: Buffer }[] = [];
  for (const m of lsstMessagesOnePerId()) {
    good.push({ id: m.diaSourceId, datum: m.value, message: encodeConfluent(await register(m.key.toString()), m.value) });
  }
  const mini = await register(JSON.stringify(LSST_MINI_SCHEMA));
  const nested = await register(JSON.stringify(nestedRecordsSchema()));
  const nulls = await register(JSON.stringify(nullRecordsSchema()));
  const unknown = Math.max(...ids.values()) + 1000;
  return interleave(good, [
    { name: 'hostile schema (nested named records)', message: encodeConfluent(nested, nestedRecordsDatum(9_100_001n)), reason: /^lsst format: .*expands to 111111116 values/ },
    { name: 'items of no bytes', message: encodeConfluent(nulls, nullRecordsDatum(9_100_002n, 900_000)), reason: /^lsst format: .*builds more than \d+ values/ },
    { name: 'midpointMjdTai NaN', message: encodeConfluent(mini, lsstDatum(9_100_003n, Number.NaN)), reason: /alert diaSourceId 9100003: diaSource\.midpointMjdTai NaN is not a time/ },
    { name: 'midpointMjdTai 1e12', message: encodeConfluent(mini, lsstDatum(9_100_004n, 1e12)), reason: /alert diaSourceId 9100004: diaSource\.midpointMjdTai 1000000000000 is not a time/ },
    { name: 'schema id unknown to the registry (40403)', message: encodeConfluent(unknown, lsstDatum(9_100_005n, 61000.2)), reason: new RegExp(`schema id ${unknown} is unknown to the registry`) },
  ]);
}

test('poisons among good alerts on a ZTF topic and a Rubin topic (managed registry): stream2science exits 0, stores every good alert once, dead-letters each poison with its place and reason', async (t) => {
  if (!haveLsstData(t)) return;
  const ztf = ztfTopic();
  const rubin = await rubinTopic('poison_rubin_alerts');
  await produceUpstream(cluster, 'poison_ztf_20260125', ztf.messages);
  await produceUpstream(cluster, 'poison_rubin_alerts', rubin.messages);
  const setup = stream2scienceSetup(cluster, 'poison_.*', {
    UPSTREAM_FORMAT: 'poison_rubin_.*=lsst,poison_ztf_.*=ztf',
    UPSTREAM_SCHEMA_REGISTRY: registry.url,
    UPSTREAM_SCHEMA_RETRIES: '0',
  });
  // As the service runs: node with the CLI's own heap flags (its shebang's).
  const { status, output } = await runFink(['start', 'stream2science', '--until-caught-up'], setup.env);
  assert.equal(status, 0, output);
  assert.doesNotMatch(output, /FATAL|heap|out of memory|Abort/i, 'the process aborted');
  const good = new Map([...ztf.good, ...rubin.good]);
  const poisons = ztf.poisons.size + rubin.poisons.size;
  assert.match(output, new RegExp(`stored ${good.size} alerts from ${ztf.messages.length + rubin.messages.length} upstream messages`));

  const { rows, byId } = storedDatums(setup.scienceDb);
  assert.equal(rows, good.size, 'rows stored: every good alert once, no poison');
  for (const [id, datum] of good) assert.ok(byId.get(id)?.equals(datum), `alert ${id} stored with its bytes`);

  const letters = readFileSync(join(setup.stateDir, 'dead-letters.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const l of letters) t.diagnostic(`dead letter ${String(l.topic)}/${String(l.partition)}@${String(l.offset)} ${String(l.code)}: ${String(l.reason).slice(0, 160)}`);
  assert.equal(letters.length, poisons, letters.map((l) => l.reason).join('\n'));
  for (const [topic, sent] of [['poison_ztf_20260125', ztf], ['poison_rubin_alerts', rubin]] as const) {
    for (const [offset, poison] of sent.poisons) {
      const letter = letters.find((l) => l.topic === topic && l.partition === 0 && l.offset === String(offset));
      assert.ok(letter !== undefined, `${topic}: no dead letter for the poison '${poison.name}' at offset ${offset}`);
      assert.match(String(letter.reason), poison.reason, `${topic} offset ${offset} (${poison.name})`);
    }
  }
});
