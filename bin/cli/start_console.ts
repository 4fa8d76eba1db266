// `fink start console [--port P]`
import { commandArgs, intFlag } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/config.ts';
import { LiveConsole } from '../../src/console/live.ts';
import { consoleServer, listen } from '../../src/console/server.ts';
import { checkExposure, consoleSettings } from '../../src/console/settings.ts';
import { readCheckpoint } from '../../src/distribution/checkpoint.ts';
import { TopicMissingError } from '../../src/kafka/topic-reader.ts';
import { DISTRIBUTION_SERVICE, serviceProcess } from '../../src/service/services.ts';

const USAGE = `usage: fink start console [--port P] [--conf FILE]

Serves a live web page at http://CONSOLE_HOST:CONSOLE_PORT/ (default 127.0.0.1:8480): the latest
alerts of DISTRIBUTION_TEST_TOPIC and of each science topic as they are committed (read_committed,
decoded with the schema files), one alert's cutouts, light curve, fields and Avro file, the
distribution service's state (running, rates per topic, lag per night, errors, brokers), and a
search by objectId or candid over the science database. Stop it with Ctrl-C.

With the science log (SCIENCE_STORE=kafka): a Science log panel instead of the lag per night, each
survey topic's write rate and the lag of the distribution's group (DISTRIBUTION_GROUP, else
DISTRIBUTION_ID's group of one); search needs the SQLite store and says so.

Only requests whose Host names the console (127.0.0.1, localhost, [::1] or CONSOLE_HOST, with its
port) are answered. With CONSOLE_TOKEN set, every request needs it (the page asks for it once;
scripts send Authorization: Bearer TOKEN); CONSOLE_HOST other than a loopback address needs it.

  --port P   port to listen on (default CONSOLE_PORT; 0 for any free port)
`;

export async function run(argv: string[]): Promise<number> {
  const args = commandArgs(argv, USAGE, { port: { type: 'string' } });
  if (args === undefined) return 0;
  const { values } = args;
  const port = intFlag('port', values.port, 0, 65535);
  const config = loadConfig({ confFile: values.conf, flags: port === undefined ? {} : { CONSOLE_PORT: String(port) } });
  const settings = consoleSettings(config);
  checkExposure(settings);
  const live = new LiveConsole({
    ...settings,
    probe: {
      // A pid file that cannot be read (a folder in its place, no right to it) must not end the
      // console: the panel shows the service as not running.
      process: () => {
        try {
          const { id: serviceId, pid } = serviceProcess(config, DISTRIBUTION_SERVICE);
          return { id: serviceId, pid };
        } catch {
          return { id: settings.serviceId, pid: undefined };
        }
      },
      // Before the service's first start the checkpoint topic does not exist: nothing committed yet.
      checkpoint: async () => (await readCheckpoint(settings.connection, settings.checkpointTopic, settings.serviceId, 0).catch((err: unknown) => {
        if (err instanceof TopicMissingError) return { saved: null };
        throw err;
      })).saved?.checkpoint ?? null,
    },
  });
  const server = consoleServer(live, settings);
  // No request or sample may end the console: a rejection nobody awaited is logged, not fatal.
  process.on('unhandledRejection', (err: unknown) => process.stderr.write(`console: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`));
  const { host } = settings;
  const listening = await listen(server, host, settings.port);
  live.start();
  const shown = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`fink console at http://${shown}:${listening}/ (Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  live.stop();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}
