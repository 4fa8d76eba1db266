import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressionsAlgorithms } from '@platformatic/kafka';
import { InflateLimitError, inflateBounded, lz4Bound, snappyBound } from '../../src/kafka/bounded-inflate.ts';

const LIMIT = 4 << 20;
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
/** 64 MiB of zeros: a few KB compressed (snappy: about 3 MB), 16 times the limit inflated. */
const BOMB = Buffer.alloc(64 << 20);
const small = Buffer.from('an alert of a few bytes, '.repeat(1000));

describe('inflateBounded', () => {
  for (const name of CODECS) {
    const codec = compressionsAlgorithms[name];
    it(`inflates ${name} data within the limit as the client's codec does`, () => {
      assert.deepEqual(inflateBounded(codec.bitmask, codec.compressSync(small), LIMIT), small);
    });

    it(`refuses ${name} data that inflates past the limit`, () => {
      assert.throws(() => inflateBounded(codec.bitmask, codec.compressSync(BOMB), LIMIT), InflateLimitError);
    });
  }

  it('bounds an lz4 frame by its blocks (every compressed block counted full) and a snappy block by its stated length', () => {
    const lz4 = lz4Bound(compressionsAlgorithms.lz4.compressSync(BOMB));
    assert.ok(lz4 >= BOMB.length && lz4 <= BOMB.length + (4 << 20), `lz4 bound ${lz4}`);
    assert.equal(snappyBound(compressionsAlgorithms.snappy.compressSync(BOMB)), BOMB.length);
  });

  it('counts data that is no lz4 frame or snappy block as unbounded', () => {
    assert.equal(lz4Bound(Buffer.from('not a frame')), Infinity);
    assert.equal(snappyBound(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), Infinity);
  });
});
