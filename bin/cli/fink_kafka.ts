import { runCommand } from '../../src/cli/args.ts';
import { FinkError } from '../../src/cli/errors.ts';

export async function main(_argv: string[]): Promise<number> {
  return runCommand('fink_kafka', async () => {
    throw new FinkError('this command is not built yet');
  });
}
