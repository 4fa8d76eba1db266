// Node flags of the long-running commands. The distribution turns over a few hundred MB/s of
// short-lived buffers; with V8's default young generation (up to 32 MB per semi-space, grown
// under that churn) its resident memory settled near 350 MB, with 8 MB near 240 MB at the same
// speed (measured with bench/distribute.ts on 100k ztf-light alerts). bin/fink.ts's shebang
// carries the same flags for the installed command; a test keeps the two equal.
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
