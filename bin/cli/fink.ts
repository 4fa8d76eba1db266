// `fink <command>`: dispatches to one module per command, loaded only when used.
import { runCommand } from '../../src/cli/args.ts';
import { UsageError } from '../../src/errors.ts';

interface Command {
  words: string[];
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number | void> }>;
}

const COMMANDS: Command[] = [
  { words: ['ingest'], summary: 'ingest Avro alert files (or folders of them) into the science database', load: () => import('./ingest.ts') },
  { words: ['simulate'], summary: 'realistic synthetic alerts into the science database (or as Avro files)', load: () => import('./simulate.ts') },
  { words: ['db', 'prune'], summary: 'removes nights older than an age that the distribution has finished', load: () => import('./db_prune.ts') },
  { words: ['db', 'stats'], summary: 'alerts in total and per night, fields, size on disk', load: () => import('./db_stats.ts') },
  { words: ['start', 'distribution'], summary: 'the distribution service: science database -> Avro -> Kafka', load: () => import('./start_distribution.ts') },
  { words: ['stop', 'distribution'], summary: 'stops a running distribution service gracefully', load: () => import('./stop_distribution.ts') },
  { words: ['start', 'distribution_test'], summary: 'reads a topic back, decodes it with the schema file, prints a table', load: () => import('./start_distribution_test.ts') },
  { words: ['start', 'simulator'], summary: 'replays a night of alerts on the simulator cluster, exposure by exposure', load: () => import('./start_simulator.ts') },
  { words: ['start', 'stream2science'], summary: "the survey's stream (ZTF, Rubin) into the science database, exactly once", load: () => import('./start_stream2science.ts') },
  { words: ['stop', 'stream2science'], summary: 'stops a running stream2science gracefully', load: () => import('./stop_stream2science.ts') },
  { words: ['filter'], summary: 'user filters: fields a condition may use; test one on stored alerts; add, list, remove registrations', load: () => import('./filter.ts') },
  { words: ['start', 'console'], summary: 'a live web page of the topics, their alerts and the service', load: () => import('./start_console.ts') },
];

export const USAGE = `usage: fink <command> [options]   (fink <command> --help for its options)

commands:
${COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(26)} ${c.summary}`).join('\n')}

common options:
  --conf FILE                  configuration file (default: conf/fink.conf, or $FINK_CONF)
  -h, --help                   this text
`;

export async function main(argv: string[]): Promise<number> {
  return runCommand('fink', async () => {
    if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help') {
      process.stdout.write(USAGE);
      return 0;
    }
    const command = COMMANDS.find((c) => c.words.every((w, i) => argv[i] === w));
    if (command === undefined) throw new UsageError(`unknown command '${argv.slice(0, 2).join(' ')}'`);
    const module = await command.load();
    return module.run(argv.slice(command.words.length));
  });
}
