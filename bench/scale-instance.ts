// One distribution instance of the scale and visit cases (bench/scale.ts), measured: the real
// command (`fink <the arguments given>`, here `start distribution --group G ...`) run in this
// process, so that the CPU it reports is the instance's own over its whole life. At its end it
// prints one JSON line: the process's user + system CPU (process.cpuUsage(), every thread of the
// process, Node's start and the modules' loading included) and the part of it spent before the
// command's main began.
import { applyV8RuntimeFlags, enableModuleCompileCache } from '../src/cli/runtime.ts';

// As the command launcher does.
applyV8RuntimeFlags();
enableModuleCompileCache();
const { main } = await import('../bin/cli/fink.ts');
const boot = process.cpuUsage();
const code = await main(process.argv.slice(2));
const all = process.cpuUsage();
process.stdout.write(JSON.stringify({ code, cpu_s: (all.user + all.system) / 1e6, boot_cpu_s: (boot.user + boot.system) / 1e6 }) + '\n');
process.exitCode = code;
