// The gate's own process, started detached by managed-registry.ts: `registry-gate-main.ts SPEC_FILE`.
// It runs only as a process's main module: a module that imports it (a test walking src/, say)
// must not start a gate.
import { runGate } from './registry-gate.ts';

if (import.meta.main) await runGate(process.argv[2] as string);
