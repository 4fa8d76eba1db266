// Child of ingestInChild (hostile.ts): ingests argv[3..] into the science database argv[2] and
// prints the report and the process's peak memory as JSON.
import { ingestPaths } from '../../src/sciencedb/ingest.ts';
import { peakRssMb } from './hostile.ts';

const [dir, ...paths] = process.argv.slice(2);
const report = ingestPaths(dir!, paths);
process.stdout.write(JSON.stringify({ report, peakMb: peakRssMb() }));
