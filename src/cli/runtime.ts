import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

// Node flags of the long-running commands. The distribution turns over a few hundred MB/s of
// short-lived buffers, and V8 sizes its heap for that churn, not for the little it keeps: with the
// defaults a 1M-alert ztf-light backlog peaked at 350 MB resident, and from run to run between 260
// and 350 MB with an 8 MB young generation alone. With the young generation at 8 MB and the old one
// capped at 192 MB (the service keeps well under 100 MB of objects), it stays near 200 MB, for
// about 15% less speed on small alerts (bench/distribute.ts, 100k ztf-light alerts, 3 runs each).
// bin/fink.ts's shebang carries the same flags for the installed command; a test keeps them equal.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--max-old-space-size=192'];

/**
 * V8 settings that cannot go in the shebang, because an older Node refuses them before the
 * command can say which Node it needs. With external memory counted in V8's global limit, the
 * buffers the distribution turns over (alerts read from the science database, requests) no longer
 * start a full collection every 64 MB: 47 instead of 69 for 10,000 Rubin alerts, and about 10%
 * less CPU (BENCHMARKS.md, Fewer new buffers on the produce path). Process-wide; called once, by
 * the command launcher and the benchmark's service process.
 */
export const V8_RUNTIME_FLAGS: readonly string[] = ['--external-memory-accounted-in-global-limit'];

export function applyV8RuntimeFlags(): void {
  for (const flag of V8_RUNTIME_FLAGS) setFlagsFromString(flag);
}

/**
 * Node's on-disk cache of compiled modules, for the modules a command loads after this call. A
 * command's start is most of what a group instance costs whatever it distributes (BENCHMARKS.md,
 * the scale case): about 0.7 of its 0.9 s of CPU over an empty log went to loading the modules
 * (Node's TypeScript stripping, compiling @platformatic/kafka's hundreds of files), every instance
 * again; with the cache, 0.5 s. The cache holds code that the next start runs, so it lives in the
 * user's own cache folder (compileCacheDir), not in Node's default under the shared os.tmpdir(),
 * where a neighbour could plant it. Keyed by each file's content; NODE_DISABLE_COMPILE_CACHE=1
 * turns it off, and a cache that cannot be written costs nothing but the saving. Called once, by
 * the command launcher and the benchmark's instance process.
 */
export function enableModuleCompileCache(): void {
  enableCompileCache(compileCacheDir());
}

/** NODE_COMPILE_CACHE when set, else fink-distribution/node-compile-cache in XDG_CACHE_HOME or ~/.cache. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NODE_COMPILE_CACHE) return env.NODE_COMPILE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fink-distribution', 'node-compile-cache');
}
