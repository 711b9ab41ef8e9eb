/**
 * File-system source for the CLI and tests (Node only): a model.json path and the files beside it.
 * Every file-system failure (a missing path, a dangling link, a folder or file it may not read)
 * becomes a ModelError naming the path, so the CLI prints one line, never a stack trace.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './errors';
import type { ModelFile } from './files';

/** What a failed fs call says, in words a user can act on. */
function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied).';
  if (code === 'ENOENT') return 'does not exist.';
  if (code === 'ELOOP') return 'is a link that leads back to itself.';
  if (code === 'EISDIR') return 'is a folder, not a file.';
  return `cannot be read (${code ?? String((e as Error)?.message ?? e)}).`;
}

/** A link whose target is gone: said so, with where it points. */
function danglingLink(path: string): ModelError {
  let target = '?';
  try {
    target = readlinkSync(path);
  } catch {
    // keep '?'
  }
  return new ModelError(path, `is a link to ${target}, which does not exist.`, 'Restore the file it points at, or put the real file in its place.');
}

function fileAt(path: string, size: number): ModelFile {
  return {
    path,
    size,
    read: async () => {
      let b: Buffer;
      try {
        b = readFileSync(path);
      } catch (e) {
        throw new ModelError(path, fsProblem(e), 'Check that the file is there and that you may read it.');
      }
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/** A file that is listed but cannot be read (a dangling link): the loader sees it, and reading it says why. */
function unreadable(error: ModelError, path: string): ModelFile {
  return {
    path,
    size: 0,
    read: async () => {
      throw error;
    },
  };
}

/** model.json (or a folder holding one) plus every file in its folder, shown with paths as the user typed them. */
export function filesFromPath(path: string): ModelFile[] {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (e) {
    const isLink = (() => {
      try {
        return lstatSync(path).isSymbolicLink();
      } catch {
        return false;
      }
    })();
    if (isLink && (e as NodeJS.ErrnoException)?.code === 'ENOENT') throw danglingLink(path);
    if ((e as NodeJS.ErrnoException)?.code === 'ENOENT' || (e as NodeJS.ErrnoException)?.code === 'ENOTDIR') {
      throw new ModelError(path, 'does not exist.', 'Give the path of a model.json (or of the folder that holds it).');
    }
    throw new ModelError(path, fsProblem(e), 'Give the path of a model.json (or of the folder that holds it) that you may read.');
  }
  const dir = stat.isDirectory() ? path : dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new ModelError(dir, `(the model's folder) ${fsProblem(e)}`, 'Check that the folder is there and that you may read it.');
  }
  const files: ModelFile[] = [];
  for (const name of names) {
    const full = join(dir, name);
    // A named model.json wins over other models in its folder; metadata.json still comes along.
    const otherJson = !stat.isDirectory() && name.endsWith('.json') && name !== 'metadata.json' && resolve(full) !== resolve(path);
    if (otherJson) continue;
    let s: Stats;
    try {
      s = statSync(full);
    } catch (e) {
      // A dangling link or a file it may not even stat: listed, so the loader names it if the model needs it.
      let link = false;
      try {
        link = lstatSync(full).isSymbolicLink();
      } catch {
        // gone between readdir and stat
        continue;
      }
      files.push(unreadable(link && (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? danglingLink(full) : new ModelError(full, fsProblem(e), 'Check that the file is there and that you may read it.'), full));
      continue;
    }
    if (!s.isFile()) continue;
    files.push(fileAt(full, s.size));
  }
  return files;
}
