import { FinkError } from '../../src/cli/errors.ts';

export async function run(_argv: string[]): Promise<number> {
  throw new FinkError('this command is not built yet');
}
