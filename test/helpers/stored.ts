// Every alert a science database folder holds, as the distribution reads them.
import { openReader, type StoredAlert } from '../../src/sciencedb/reader.ts';

export function readStored(dir: string): StoredAlert[] {
  const reader = openReader(dir);
  try {
    return reader.read({}, 1_000_000).alerts;
  } finally {
    reader.close();
  }
}
