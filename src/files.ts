// File-system helpers shared by the rooms of the flow.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** The names in a folder, or none if the folder does not exist (yet). */
export function listFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Creates `dir` (and its parents) if needed and makes it accessible to its owner only. */
export function privateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Appends `text` to the record `file` (created if needed), refusing a symlink planted in its place
 * (ELOOP) rather than appending through it to whatever it points at.
 */
export function appendRecord(file: string, text: string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `text` atomically, without ever following a symlink planted there or at
 * the temporary name: the text goes to a new file of an unpredictable name, opened with O_EXCL and
 * O_NOFOLLOW, which is then renamed over `file` (a rename replaces a symlink, it does not follow it).
 * `durable`: the text and the rename are on disk before it returns (fsync of the file, then of the
 * folder), so that a crash leaves the old file or the new one, whole.
 */
export function replaceFile(file: string, text: string, mode = 0o644, { durable = false } = {}): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      writeSync(fd, text);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) syncFolder(dirname(file));
}

function syncFolder(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What `read` gives, or undefined when the file it reads does not exist (ENOENT); other failures are thrown. */
export function ifExists<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
