import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import avro from 'avsc';
import { encodeContainer, readContainer } from '../../src/avro/container.ts';
import { compactSchemaJson, parseAvroType, sanitizeSchema, schemaFingerprint, type AvroSchema } from '../../src/avro/schema.ts';

describe('64-bit longs', () => {
  test('longs beyond 2^53 go through as bigint, bit for bit', () => {
    const type = parseAvroType({ type: 'record', name: 'r', fields: [{ name: 'a', type: 'long' }, { name: 'b', type: ['null', 'long'] }] });
    for (const value of [0n, -1n, 2n ** 53n + 1n, 1234567890123456789n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const out = type.fromBuffer(type.toBuffer({ a: value, b: value })) as { a: bigint; b: bigint };
      assert.equal(out.a, value);
      assert.equal(out.b, value);
    }
  });

  test('the encoding is the standard zig-zag varint (readable by a reader with ordinary longs)', () => {
    const ours = parseAvroType('long');
    const plainLong = avro.Type.forSchema('long');
    assert.deepEqual(ours.toBuffer(123456789n), plainLong.toBuffer(123456789));
  });
});

describe('floats and bytes', () => {
  test('float keeps 32-bit values, NaN and -0.0; double keeps 64 bits; bytes stay bytes', () => {
    const type = parseAvroType({ type: 'record', name: 'r', fields: [{ name: 'f', type: 'float' }, { name: 'd', type: 'double' }, { name: 'x', type: 'bytes' }] });
    for (const f of [Math.fround(0.1), -0, NaN, Math.fround(3.4e38), Math.fround(1e-45)]) {
      const bytes = Buffer.from([0, 255, 1, 254]);
      const buf = type.toBuffer({ f, d: 0.1 + 0.2, x: bytes });
      const out = type.fromBuffer(buf) as { f: number; d: number; x: Buffer };
      assert.ok(Object.is(out.f, f), `float ${f}`);
      assert.ok(Object.is(out.d, 0.1 + 0.2));
      assert.ok(out.x.equals(bytes));
      assert.ok(type.toBuffer(out).equals(buf), 're-encoding gives the same bytes');
    }
  });
});

describe('schemas valid by the spec', () => {
  const older: AvroSchema = {
    type: 'record', name: 'alert', fields: [
      { name: 'candid', type: 'long' },
      { name: 'magpsf', type: ['float', 'null'], default: null },
      { name: 'ok', type: ['null', 'float'], default: null },
      { name: 'nested', type: { type: 'record', name: 'n', fields: [{ name: 'x', type: ['string', 'null'], default: null }] } },
      { name: 'hist', type: ['null', { type: 'array', items: { type: 'record', name: 'h', fields: [{ name: 'y', type: ['int', 'null'], default: null }] } }], default: null },
    ],
  };

  test('strict parsers refuse union defaults that do not match the first branch', () => {
    assert.throws(() => avro.Type.forSchema(older as avro.Schema), /default/);
  });

  test('sanitizing drops exactly those defaults, keeps the branch order, and changes no encoded byte', () => {
    const valid = sanitizeSchema(older) as { fields: { name: string; type: unknown; default?: unknown }[] };
    const fields = Object.fromEntries(valid.fields.map((f) => [f.name, f]));
    assert.equal('default' in fields.magpsf!, false);
    assert.equal(fields.ok!.default, null, 'a valid default is kept');
    assert.deepEqual(fields.magpsf!.type, ['float', 'null'], 'branches are not reordered');
    const nested = (fields.nested!.type as { fields: { default?: unknown }[] }).fields[0]!;
    assert.equal('default' in nested, false, 'nested records are sanitised too');
    const type = parseAvroType(valid as AvroSchema);
    const value = { candid: 5n, magpsf: 17.5, ok: null, nested: { x: null }, hist: [{ y: 3 }, { y: null }] };
    // Encoding by hand of the same value under the older schema's layout (union index, then value).
    const buf = type.toBuffer(value);
    assert.deepEqual([...buf.subarray(0, 2)], [0x0a, 0x00], 'candid 5, then magpsf in union branch 0 (float)');
    assert.deepEqual(sanitizeSchema(valid as AvroSchema), valid, 'sanitizing is idempotent');
  });

  test('the fingerprint ignores documentation and follows the canonical form', () => {
    const a = parseAvroType({ type: 'record', name: 'r', doc: 'one', fields: [{ name: 'x', type: 'int', doc: 'd' }] });
    const b = parseAvroType({ type: 'record', name: 'r', fields: [{ name: 'x', type: 'int' }] });
    const c = parseAvroType({ type: 'record', name: 'r', fields: [{ name: 'x', type: 'long' }] });
    assert.equal(schemaFingerprint(a), schemaFingerprint(b));
    assert.notEqual(schemaFingerprint(a), schemaFingerprint(c));
    assert.match(schemaFingerprint(a), /^[0-9a-f]{16}$/);
  });

  test('the key text is compact JSON that parses back to the schema', () => {
    const schema = { type: 'record', name: 'r', fields: [{ name: 'x', type: 'int' }] };
    const text = compactSchemaJson(schema);
    assert.equal(text.includes('\n') || text.includes(': '), false);
    assert.deepEqual(JSON.parse(text), schema);
  });
});

describe('container files', () => {
  const schema = { type: 'record', name: 'r', fields: [{ name: 'id', type: 'long' }, { name: 's', type: 'string' }] };
  const type = parseAvroType(schema);
  const datums = Array.from({ length: 250 }, (_, i) => type.toBuffer({ id: BigInt(i) * 10n ** 15n, s: 'x'.repeat(i) }));

  for (const codec of ['null', 'deflate'] as const) {
    test(`written with codec ${codec}, read back datum by datum (and by avsc's own reader)`, async () => {
      const file = encodeContainer(schema, datums, { codec, perBlock: 64 });
      const container = readContainer(file);
      assert.equal(container.codec, codec);
      const ours: Buffer[] = [];
      for (const block of container.blocks()) {
        let pos = 0;
        for (let i = 0; i < block.count; i++) {
          const { offset } = type.decode(block.data, pos);
          ours.push(block.data.subarray(pos, offset));
          pos = offset;
        }
      }
      assert.equal(ours.length, 250);
      ours.forEach((d, i) => assert.ok(d.equals(datums[i]!)));
      const theirs: unknown[] = [];
      const decoder = new avro.streams.BlockDecoder({ parseHook: (s: AvroSchema) => parseAvroType(s) } as never);
      await new Promise<void>((resolve, reject) => {
        decoder.on('data', (v: unknown) => theirs.push(v));
        decoder.on('end', resolve);
        decoder.on('error', reject);
        decoder.end(file);
      });
      assert.equal(theirs.length, 250);
      assert.equal((theirs[249] as { id: bigint }).id, 249n * 10n ** 15n);
    });
  }

  test('a file cut short or with a wrong marker is refused with the reason', () => {
    const file = encodeContainer(schema, datums, { perBlock: 64 });
    assert.throws(() => [...readContainer(file.subarray(0, file.length - 100)).blocks()], /truncated/);
    assert.throws(() => readContainer(Buffer.from('hello world')), /not an Avro container file/);
    const broken = Buffer.from(file);
    broken.writeUInt8(broken.readUInt8(broken.length - 1) ^ 0xff, broken.length - 1);
    assert.throws(() => [...readContainer(broken).blocks()], /sync marker/);
  });
});
