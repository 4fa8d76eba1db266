// `fink stop stream2science`
import { stopServiceCommand } from '../../src/cli/stop.ts';
import { STREAM2SCIENCE_SERVICE } from '../../src/service/services.ts';

const USAGE = `usage: fink stop stream2science [--conf FILE]

Stops the stream2science of UPSTREAM_GROUP_ID running on this machine gracefully: the batch in
flight is committed with its positions, never half. Waits until it has exited.
`;

export async function run(argv: string[]): Promise<number> {
  return stopServiceCommand(argv, USAGE, STREAM2SCIENCE_SERVICE);
}
