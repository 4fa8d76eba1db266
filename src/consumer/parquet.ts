// Alerts saved as Parquet, through DuckDB (the issue's suggested writer for nested Parquet): the
// Avro schema becomes DuckDB types (records -> STRUCT, arrays -> LIST, nullable unions -> the
// branch's type, long -> BIGINT, float -> FLOAT, bytes -> BLOB), the decoded alerts are appended
// value by value, so 64-bit integers, 32-bit floats (NaN too) and bytes keep their exact values.
// DuckDB is an optional dependency, loaded only when a .parquet file is asked for: without it the
// rest of the project works, and asking for Parquet says how to install it.
import type * as DuckDB from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { AvroSchema, FieldSchema, RecordSchema } from '../avro/schema.ts';
import { FinkError } from '../errors.ts';

type Duck = typeof DuckDB;

/** A Parquet file that cannot be written: DuckDB not installed, a bad path, a type Parquet does not take. */
export class ParquetError extends FinkError {
  constructor(message: string) {
    super(message, { code: 'FINK_PARQUET' });
    this.name = 'ParquetError';
  }
}

const DUCKDB_PACKAGE = '@duckdb/node-api';

/** How DuckDB's Node API is loaded; replaceable so that its absence can be tested. */
export type DuckDBLoader = () => Promise<Duck>;

const importDuckDB: DuckDBLoader = () => import('@duckdb/node-api');

async function loadDuckDB(load: DuckDBLoader): Promise<Duck> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ParquetError(`writing Parquet needs the optional package ${DUCKDB_PACKAGE}, which is not installed: run 'npm install ${DUCKDB_PACKAGE}' (or save FILE.avro instead)`);
    }
    throw err;
  }
}

interface Converter {
  type: DuckDBType;
  value: (v: unknown) => DuckDBValue;
}

/** Builds DuckDB types and value converters for a schema, resolving named types as Avro does. */
function converters(duck: Duck, schema: RecordSchema): Map<string, Converter> {
  const named = new Map<string, Converter>();
  const fullName = (name: string, namespace: string | undefined) => (name.includes('.') || namespace === undefined ? name : `${namespace}.${name}`);

  const convert = (node: AvroSchema, namespace: string | undefined, where: string): Converter => {
    if (typeof node === 'string') {
      switch (node) {
        case 'boolean': return { type: duck.BOOLEAN, value: (v) => v as boolean };
        case 'int': return { type: duck.INTEGER, value: (v) => v as number };
        case 'long': return { type: duck.BIGINT, value: (v) => v as bigint };
        case 'float': return { type: duck.FLOAT, value: (v) => v as number };
        case 'double': return { type: duck.DOUBLE, value: (v) => v as number };
        case 'string': return { type: duck.VARCHAR, value: (v) => v as string };
        case 'bytes': return { type: duck.BLOB, value: (v) => duck.blobValue(v as Uint8Array) };
        default: {
          const hit = named.get(fullName(node, namespace)) ?? named.get(node);
          if (hit === undefined) throw new ParquetError(`${where}: unknown type '${node}'`);
          return hit;
        }
      }
    }
    if (Array.isArray(node)) {
      const branches = node.filter((b) => b !== 'null');
      if (branches.length !== 1) throw new ParquetError(`${where}: a union of several types is not written to Parquet`);
      const inner = convert(branches[0]!, namespace, where);
      return { type: inner.type, value: (v) => (v === null || v === undefined ? null : inner.value(v)) };
    }
    const n = node as { type: unknown; name?: string; namespace?: string; fields?: FieldSchema[]; items?: AvroSchema; symbols?: string[] };
    switch (n.type) {
      case 'record': {
        const ns = n.namespace ?? (n.name?.includes('.') ? n.name.slice(0, n.name.lastIndexOf('.')) : namespace);
        // Registered before its fields: a record may contain itself.
        const entries: Record<string, DuckDBType> = {};
        const fields: [string, Converter][] = [];
        const self: Converter = {
          type: duck.STRUCT(entries),
          value: (v) => duck.structValue(Object.fromEntries(fields.map(([name, c]) => [name, c.value((v as Record<string, unknown>)[name])]))),
        };
        named.set(fullName(n.name!, ns), self);
        for (const f of n.fields!) fields.push([f.name, convert(f.type, ns, `${where}.${f.name}`)]);
        self.type = duck.STRUCT(Object.fromEntries(fields.map(([name, c]) => [name, c.type])));
        return self;
      }
      case 'array': {
        const items = convert(n.items!, namespace, `${where}[]`);
        return { type: duck.LIST(items.type), value: (v) => duck.listValue((v as unknown[]).map((x) => items.value(x))) };
      }
      case 'enum': {
        const c: Converter = { type: duck.VARCHAR, value: (v) => v as string };
        named.set(fullName(n.name!, n.namespace ?? namespace), c);
        return c;
      }
      case 'fixed': {
        const c: Converter = { type: duck.BLOB, value: (v) => duck.blobValue(v as Uint8Array) };
        named.set(fullName(n.name!, n.namespace ?? namespace), c);
        return c;
      }
      default:
        if (typeof n.type === 'string' || Array.isArray(n.type) || typeof n.type === 'object') return convert(n.type as AvroSchema, namespace, where);
        throw new ParquetError(`${where}: type ${JSON.stringify(n.type)} is not written to Parquet`);
    }
  };

  const columns = new Map<string, Converter>();
  const ns = schema.namespace ?? (schema.name.includes('.') ? schema.name.slice(0, schema.name.lastIndexOf('.')) : undefined);
  for (const field of schema.fields) columns.set(field.name, convert(field.type, ns, field.name));
  return columns;
}

/** Writes decoded alerts of one schema to a Parquet file, one column per top-level field. */
export async function writeParquet(file: string, schema: RecordSchema, records: readonly Record<string, unknown>[], load: DuckDBLoader = importDuckDB): Promise<void> {
  const duck = await loadDuckDB(load);
  const columns = converters(duck, schema);
  const instance = await duck.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    await connection.run(`CREATE TABLE alerts (${[...columns].map(([name, c]) => `${quote(name)} ${c.type.toString()}`).join(', ')})`);
    const appender = await connection.createAppender('alerts');
    for (const record of records) {
      for (const [name, c] of columns) appender.appendValue(c.value(record[name] ?? null), c.type);
      appender.endRow();
    }
    appender.closeSync();
    // DuckDB's errors are one line that says why (e.g. IO Error: Cannot open file "...": No such file or directory).
    await connection.run(`COPY alerts TO '${file.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`).catch((err: unknown) => {
      throw new ParquetError(`cannot write ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    });
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
