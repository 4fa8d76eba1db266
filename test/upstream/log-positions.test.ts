// stream2science's position records in the science log's positions topic (SCIENCE_STORE=kafka):
// readable keys and values, another group's records passed over, a record that is not a position
// refused with where it is.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePositionRecord, positionRecordKey, positionRecordValue, stream2scienceTransactionalId } from '../../src/sciencedb/log-positions.ts';

const WHERE = '_fink_stream2science_positions[0]@7';

describe('stream2science position records', () => {
  test('a position goes through its record as it was, its key and value readable JSON', () => {
    const key = positionRecordKey('fink', 'ztf_20260110_programid1', 2);
    const value = positionRecordValue(123456789012n, 3);
    assert.equal(key.toString(), '["fink","ztf_20260110_programid1",2]');
    assert.equal(value.toString(), '{"next":"123456789012","epoch":3}');
    assert.deepEqual(decodePositionRecord('fink', key, value, WHERE), { topic: 'ztf_20260110_programid1', partition: 2, next: 123456789012n, epoch: 3 });
  });

  test("another group's record is passed over; a tombstone of the group is null", () => {
    const key = positionRecordKey('other', 'ztf_x', 0);
    assert.equal(decodePositionRecord('fink', key, positionRecordValue(5n, 0), WHERE), undefined);
    assert.equal(decodePositionRecord('fink', positionRecordKey('fink', 'ztf_x', 0), null, WHERE), null);
  });

  test('a record that is not a position is refused with its place, group, topic and partition', () => {
    assert.throws(() => decodePositionRecord('fink', Buffer.from('fink/ztf_x/0'), positionRecordValue(5n, 0), WHERE), /_fink_stream2science_positions\[0\]@7: key "fink\/ztf_x\/0" is not a stream2science position key/);
    assert.throws(() => decodePositionRecord('fink', positionRecordKey('fink', 'ztf_x', 1), Buffer.from('{"next":12}'), WHERE), /_fink_stream2science_positions\[0\]@7: the position of fink ztf_x\/1 is not \{"next": "<offset>", "epoch": <int>\}: \{"next":12\}/);
  });

  test("the writer's transactional id is the group's: a second instance of the group fences the first", () => {
    assert.equal(stream2scienceTransactionalId('fink-stream2science'), 'fink-stream2science-fink-stream2science');
  });
});
