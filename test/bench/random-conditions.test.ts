// The benchmark's random user conditions (bench/random-conditions.ts): valid conditions of the
// language for either survey, the same for a seed, and selective as real ones are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomConditions, silencedAfter } from '../../bench/random-conditions.ts';
import { createSimulation } from '../../src/sciencedb/simulate.ts';
import { compileCondition } from '../../src/userfilter/condition.ts';

function sample(profile: 'ztf-light' | 'lsst-light'): Record<string, unknown>[] {
  const simulation = createSimulation({ profile, seed: 9, night: '20260101' });
  return Array.from({ length: 1000 }, () => simulation.next().fields as unknown as Record<string, unknown>);
}

for (const [survey, profile] of [['ztf', 'ztf-light'], ['lsst', 'lsst-light']] as const) {
  test(`${survey}: 100 random conditions compile, repeat for a seed, and each keeps a minority of the alerts`, () => {
    const fields = sample(profile);
    const texts = randomConditions(survey, fields, 100, 4);
    assert.deepEqual(randomConditions(survey, fields, 100, 4), texts);
    assert.notDeepEqual(randomConditions(survey, fields, 100, 5), texts);
    let pairs = 0;
    for (const text of texts) {
      const condition = compileCondition(text, survey);
      const matched = fields.filter((f) => condition.test(f as never)).length;
      assert.ok(matched < fields.length / 2, `${text} keeps ${matched} of ${fields.length}`);
      pairs += matched;
    }
    assert.ok(pairs > 0 && pairs < 0.2 * fields.length * texts.length, `${pairs} matching pairs`);
  });
}

for (const [survey, profile] of [['ztf', 'ztf-light'], ['lsst', 'lsst-light']] as const) {
  test(`${survey}: rare conditions compile and keep under 1% of the alerts, far fewer than the common ones`, () => {
    const fields = sample(profile);
    const kept = (texts: string[]) => texts.reduce((sum, text) => {
      const condition = compileCondition(text, survey);
      return sum + fields.filter((f) => condition.test(f as never)).length;
    }, 0);
    const rare = randomConditions(survey, fields, 100, 4, true);
    assert.deepEqual(randomConditions(survey, fields, 100, 4, true), rare);
    const pairs = kept(rare);
    assert.ok(pairs < 0.01 * fields.length * rare.length, `${pairs} matching pairs of ${fields.length * rare.length}`);
    assert.ok(pairs * 5 < kept(randomConditions(survey, fields, 100, 4)), `${pairs} rare pairs`);
  });
}

test('lsst: all but the first N conditions silenced match nothing, the first N what they matched before', () => {
  const fields = sample('lsst-light');
  const texts = randomConditions('lsst', fields, 20, 4);
  const kept = (text: string) => {
    const condition = compileCondition(text, 'lsst');
    return fields.filter((f) => condition.test(f as never)).length;
  };
  const silenced = silencedAfter(texts, 5, 'snr > 1e30');
  assert.equal(silenced.length, texts.length);
  assert.deepEqual(silenced.slice(0, 5).map(kept), texts.slice(0, 5).map(kept));
  assert.ok(texts.slice(5).some((t) => kept(t) > 0), 'some of the later conditions match before they are silenced');
  assert.deepEqual(silenced.slice(5).map(kept), texts.slice(5).map(() => 0));
});
