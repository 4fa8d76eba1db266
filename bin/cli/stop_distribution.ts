// `fink stop distribution`
import { stopServiceCommand } from '../../src/cli/stop.ts';
import { DISTRIBUTION_SERVICE } from '../../src/service/services.ts';

const USAGE = `usage: fink stop distribution [--conf FILE]

Stops the distribution service of DISTRIBUTION_ID running on this machine gracefully: the batch in
flight is committed (or, if Kafka is away, aborted), never half. Waits until it has exited.
`;

export async function run(argv: string[]): Promise<number> {
  return stopServiceCommand(argv, USAGE, DISTRIBUTION_SERVICE);
}
