/**
 * File-system source for the CLI and tests (Node only): a model.json path and the files beside it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ModelError } from './errors';
import type { ModelFile } from './files';

function fileAt(path: string, shownAs: string): ModelFile {
  return {
    path: shownAs,
    size: statSync(path).size,
    read: async () => {
      const b = readFileSync(path);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

/** model.json (or a folder holding one) plus every file in its folder, shown with paths as the user typed them. */
export function filesFromPath(path: string): ModelFile[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new ModelError(path, 'does not exist.', 'Give the path of a model.json (or of the folder that holds it).');
  }
  const dir = stat.isDirectory() ? path : dirname(path);
  const files: ModelFile[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (!statSync(full).isFile()) continue;
    // A named model.json wins over other models in its folder; metadata.json still comes along.
    const otherJson = !stat.isDirectory() && name.endsWith('.json') && name !== 'metadata.json' && resolve(full) !== resolve(path);
    if (otherJson) continue;
    files.push(fileAt(full, full));
  }
  return files;
}
