// Child of bounded.test.ts: checks one of BUILDING_BOMBS (argv[2], its index) as a caller does, and
// if the check lets it through, decodes it with avsc. Prints `refused: <reason>` or `decoded`. Run
// with a small heap: a check that lets a bomb through aborts this process, not the test runner.
import { checkDatum, DatumError } from '../../src/avro/bounded.ts';
import { parseAvroType, type AvroSchema } from '../../src/avro/schema.ts';
import { BUILDING_BOMBS } from '../helpers/building-bombs.ts';

const bomb = BUILDING_BOMBS[Number(process.argv[2])]!;
const type = parseAvroType(bomb.schema as AvroSchema);
try {
  checkDatum(type, bomb.datum);
} catch (err) {
  if (!(err instanceof DatumError)) throw err;
  process.stdout.write(`refused: ${err.message}`);
  process.exit(0);
}
type.decode(bomb.datum, 0);
process.stdout.write('decoded');
