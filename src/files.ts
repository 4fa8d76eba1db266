// File-system helpers shared by the rooms of the flow.
import { readdirSync } from 'node:fs';

/** The names in a folder, or none if the folder does not exist (yet). */
export function listFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
