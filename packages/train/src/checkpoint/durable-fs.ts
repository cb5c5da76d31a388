/**
 * Crash-safe file operations. A file is complete once `writeFileDurable` returns (data fsynced);
 * a directory entry survives a power cut once its parent directory is fsynced; `rename` within
 * one file system is atomic, so readers see either the old or the new file, never a mix.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Hex SHA-256 of `data`. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Write `data` to `file` and fsync it before returning. */
export async function writeFileDurable(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Fsync a directory so renames and new entries in it are durable (no-op where unsupported). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Replace `file` atomically: write a temp file beside it, fsync, rename over, fsync the dir. */
export async function replaceFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${Date.now()}`);
  try {
    await writeFileDurable(temp, data);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** True when `file` exists. */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
