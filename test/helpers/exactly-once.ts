// Counting what a distribution run left on its topics: every alert its filter selects, once,
// seen by the project's read_committed reader and by kcat, a reader that shares no code with it.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { accepts, loadFilters } from '../../src/distribution/filters.ts';
import { distributionSettings } from '../../src/distribution/settings.ts';
import { planTopics } from '../../src/distribution/topics.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { decodeWithKey, readAll, type DistributionSetup } from './distribution.ts';
import type { TestCluster } from './kafka.ts';
import type { ConsumedMessage } from '../../src/kafka/topic-reader.ts';
import { kcatIfInstalled, kcatReadCommitted } from './readers.ts';

/** What each topic must hold exactly once: the candids the filters select among the simulated alerts. */
export async function expectedTopics(setup: DistributionSetup, night: string, runs: { seed: number; count: number }[]): Promise<Map<string, Set<bigint>>> {
  const plans = planTopics(distributionSettings(setup.config).topics, await loadFilters(setup.config.require('FILTERS_DIR')));
  const expected = new Map(plans.map((p) => [p.topic, new Set<bigint>()]));
  for (const { seed, count } of runs) {
    const sim = createSimulation({ profile: 'ztf-light', seed, night });
    for (let i = 0; i < count; i++) {
      const alert = sim.next();
      for (const p of plans) if (p.filter === null || accepts(p.filter, alert)) expected.get(p.topic)!.add(alert.alertId);
    }
  }
  return expected;
}

/**
 * Every matching alert once on every topic, counted twice: with the project's read_committed
 * reader (decoding each alert) and with kcat, a reader that shares no code with it (the records it
 * sees at read_committed, by partition, offset and size, must be the very same). `candidOf`: an
 * alert's candid from its message (default: decoded with the schema in its key, the fink format).
 */
export async function assertExactlyOnce(t: TestContext, cluster: TestCluster, setup: DistributionSetup, expected: Map<string, Set<bigint>>, candidOf: (m: ConsumedMessage) => bigint | Promise<bigint> = (m) => decodeWithKey(m).candid as bigint): Promise<void> {
  const independent = kcatIfInstalled(t, "counted with the project's reader only");
  for (const [topic, want] of expected) {
    const messages = await readAll(setup.config, topic);
    const candids = await Promise.all(messages.map(candidOf));
    const unique = new Set(candids);
    if (candids.length !== unique.size) {
      // Whether the log holds the copies or the project's reader made them: kcat's count says.
      const kcatSays = independent ? `; kcat at read_committed reads ${kcatReadCommitted(cluster.bootstrap, topic, '%p:%o').length} records` : '';
      assert.fail(`${topic}: no alert twice (${candids.length - unique.size} duplicates: ${copiesOfDuplicates(messages, candids)}${kcatSays})`);
    }
    assert.equal(unique.size, want.size, `${topic}: every matching alert (${unique.size} of ${want.size})`);
    for (const c of want) assert.ok(unique.has(c), `${topic}: alert ${c} present`);
    if (!independent) continue;
    const seen = kcatReadCommitted(cluster.bootstrap, topic, '%p:%o:%S');
    assert.equal(seen.length, want.size, `${topic}: kcat at read_committed counts every matching alert once (${seen.length} of ${want.size})`);
    assert.deepEqual(seen.sort(), messages.map((m) => `${m.partition}:${m.offset}:${m.value!.length}`).sort(), `${topic}: kcat reads the same records`);
  }
}

/**
 * Where the copies of the duplicated alerts lie, for the failure's message: by partition, the
 * offsets of the first copies and of the later ones (a batch sent twice shows as two ranges).
 */
function copiesOfDuplicates(messages: readonly ConsumedMessage[], candids: readonly bigint[]): string {
  const firstAt = new Map<bigint, ConsumedMessage>();
  const pairs: [ConsumedMessage, ConsumedMessage][] = [];
  candids.forEach((c, i) => {
    const first = firstAt.get(c);
    if (first === undefined) firstAt.set(c, messages[i]!);
    else pairs.push([first, messages[i]!]);
  });
  const byPartition = new Map<string, { from: bigint; to: bigint; n: number; firsts: bigint[] }>();
  for (const [first, later] of pairs) {
    const key = `${first.partition}->${later.partition}`;
    let r = byPartition.get(key);
    if (r === undefined) byPartition.set(key, (r = { from: later.offset, to: later.offset, n: 0, firsts: [] }));
    if (later.offset < r.from) r.from = later.offset;
    if (later.offset > r.to) r.to = later.offset;
    r.n++;
    r.firsts.push(first.offset);
  }
  return [...byPartition].map(([key, r]) => {
    const [p, q] = key.split('->');
    const firsts = r.firsts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `${r.n} first at partition ${p} offsets ${firsts[0]}-${firsts.at(-1)}, again at partition ${q} offsets ${r.from}-${r.to}`;
  }).join('; ');
}
