// Loaded first by every command, before any module that needs Node 24 (node:sqlite, TypeScript
// stripping): on an older Node, say how to run the project instead of failing on an import.
export interface CliModule {
  main(argv: string[]): Promise<number>;
}

const REQUIRED_MAJOR = 24;

export async function launch(name: string, load: () => Promise<CliModule>): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < REQUIRED_MAJOR) {
    process.stderr.write(
      `${name}: needs Node ${REQUIRED_MAJOR} or newer, and this is Node ${process.versions.node}.\n` +
        `The project brings its own Node ${REQUIRED_MAJOR}: run 'npm install' in the project folder, ` +
        `then 'npx ${name} ...' (or put node_modules/.bin first on your PATH).\n`,
    );
    process.exit(1);
  }
  // Imported only now: an older Node has been turned away above.
  const runtime = await import('../src/cli/runtime.ts');
  runtime.applyV8RuntimeFlags();
  runtime.enableModuleCompileCache();
  const cli = await load();
  process.exitCode = await cli.main(process.argv.slice(2));
}
