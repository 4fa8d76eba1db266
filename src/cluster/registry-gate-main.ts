// The gate's own process, started detached by managed-registry.ts: `registry-gate-main.ts SPEC_FILE`.
import { runGate } from './registry-gate.ts';

await runGate(process.argv[2] as string);
