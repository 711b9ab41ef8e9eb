/**
 * Where a command writes its model: `--out DIR`, checked before any work starts so a user's files
 * are never lost, and written atomically file by file.
 *
 * - `--out` must be a folder: a file path (the input model.json included) is refused in one line.
 * - The input model's own folder (by real path, so `.`, `..`, links and relative spellings are
 *   caught) and a folder that already holds model files (model.json, report.json, any *.bin) are
 *   refused unless `--force`.
 * - Each file is written to a temporary name in the target folder, flushed, then renamed into place:
 *   a crash or a full disk leaves the old file or the new one, never half of one.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { MODEL_FILE, REPORT_FILE, WEIGHTS_FILE } from '../core/export/files';
import { ModelError } from '../core/model/errors';
import { UsageError } from './args';

/** The files a command writes; with any *.bin, what makes a folder hold a model that --out would replace. */
const WRITTEN = [MODEL_FILE, WEIGHTS_FILE, REPORT_FILE];

export interface OutFolder {
  /** As the user typed it. */
  dir: string;
  force: boolean;
  /** A folder name to suggest instead (beside the input model). */
  suggestion: string;
  /** Names this run has written, so a second write (a report after the model) does not refuse itself. */
  written: Set<string>;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException)?.code;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The folder a model path names (the path itself when it is a folder, as filesFromPath reads it). */
function modelFolder(path: string): string {
  const p = resolve(path);
  return statOrUndefined(p)?.isDirectory() ? p : dirname(p);
}

/** Same folder on disk: same device and inode (links, `.`, case-insensitive file systems), else the same real path. */
function sameFolder(a: string, b: string): boolean {
  const [sa, sb] = [statOrUndefined(a), statOrUndefined(b)];
  if (sa && sb && sa.ino !== 0 && sb.ino !== 0) return sa.dev === sb.dev && sa.ino === sb.ino;
  try {
    return realpathSync.native(a) === realpathSync.native(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/** Model files already in `dir` that writing there would replace or sit beside. */
function modelFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => WRITTEN.includes(n) || n.toLowerCase().endsWith('.bin')).sort();
}

function cannotWrite(dir: string, e: unknown): ModelError {
  const code = errno(e);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new ModelError(dir, `cannot be written (${code === 'EROFS' ? 'read-only file system' : 'permission denied'}).`, 'Give --out a folder you may write to.');
  if (code === 'ENOSPC' || code === 'EDQUOT') return new ModelError(dir, 'cannot be written: the disk is full.', 'Free some space, or give --out a folder on another disk.');
  if (code === 'ENOTDIR' || code === 'EEXIST') return new ModelError(dir, 'cannot be made: part of its path is a file, not a folder.', 'Give --out a path made of folders.');
  return new ModelError(dir, `cannot be written (${code ?? String((e as Error)?.message ?? e)}).`, 'Give --out a folder you may write to.');
}

/**
 * Checks `--out` before any work: a folder (or a path where one can be made) that is not the folder
 * of any input model and holds no model files, unless `force`. Throws a one-line refusal otherwise.
 */
export function outFolder(out: string | true | undefined, command: string, inputs: string[], force: boolean): OutFolder {
  if (typeof out !== 'string') throw new UsageError(`${command} needs --out DIR (a new or empty folder for model.json, model.weights.bin and report.json).`);
  const main = inputs[0];
  const beside = `${modelFolder(main)}-${command === 'prune' ? 'pruned' : command === 'search' ? 'searched' : 'finetuned'}`;
  // Spelled as the user spells paths: relative when they typed a relative one.
  const suggestion = isAbsolute(main) ? beside : relative(process.cwd(), beside) || beside;
  const shown = (p: string) => (p.includes(' ') ? `'${p}'` : p);
  if (out.trim() === '') throw new ModelError("--out ''", 'is empty.', `Give --out a folder, e.g. --out ${shown(suggestion)}.`);
  const target: OutFolder = { dir: out, force, suggestion, written: new Set() };
  try {
    lstatSync(out);
  } catch (e) {
    if (errno(e) === 'ENOTDIR') throw new ModelError(out, 'cannot be a folder: part of its path is a file.', `Give --out a folder path, e.g. --out ${shown(suggestion)}.`);
    return target; // a new folder, made at write time
  }
  const st = statOrUndefined(out);
  if (!st) {
    let to = '?';
    try {
      to = readlinkSync(out);
    } catch {
      // keep '?'
    }
    throw new ModelError(out, `is a link to ${to}, which does not exist.`, `Create the folder it points at, or give --out a new folder, e.g. --out ${shown(suggestion)}.`);
  }
  if (!st.isDirectory()) {
    const isInput = inputs.some((p) => {
      const s = statOrUndefined(p);
      return s?.isFile() && s.dev === st.dev && s.ino === st.ino;
    });
    throw new ModelError(
      out,
      isInput ? `is the input model file itself; --out takes a folder (writing there would replace the model).` : `is a file; --out takes a folder (${command} writes ${WRITTEN.join(', ')} into it).`,
      `Give --out a new folder, e.g. --out ${shown(suggestion)}.`,
    );
  }
  if (force) return target;
  for (const p of inputs) {
    if (sameFolder(out, modelFolder(p))) {
      const held = modelFilesIn(out);
      throw new ModelError(
        out,
        `is the folder of the input model ${p}${held.length ? ` (it holds ${held.join(', ')})` : ''}: writing there would replace that model.`,
        `Give --out a new folder, e.g. --out ${shown(suggestion)}, or add --force to write there anyway.`,
      );
    }
  }
  const held = modelFilesIn(out);
  if (held.length) {
    throw new ModelError(out, `already holds ${held.join(', ')}: a model written there would replace or mix with ${held.length === 1 ? 'it' : 'them'}.`, `Give --out a new or empty folder, e.g. --out ${shown(suggestion)}, or add --force to write there anyway.`);
  }
  return target;
}

/**
 * Writes `files` into the folder: each to a temporary name beside its final one, flushed, then all
 * renamed into place (weights before model.json, so a model.json never names weights not yet there).
 * Re-checks that no model file appeared in the folder since `outFolder` (another run), unless --force.
 */
export function writeOutputs(target: OutFolder, files: [name: string, data: string | Uint8Array | ArrayBuffer][]): void {
  const { dir } = target;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw cannotWrite(dir, e);
  }
  if (!statOrUndefined(dir)?.isDirectory()) throw new ModelError(dir, 'is not a folder.', `Give --out a new folder, e.g. --out ${target.suggestion}.`);
  if (!target.force) {
    const appeared = files.map(([n]) => n).filter((n) => existsSync(join(dir, n)) && !target.written.has(n));
    if (appeared.length) {
      throw new ModelError(dir, `gained ${appeared.join(', ')} while this command ran (another run writing there?); nothing was replaced.`, `Run again with a new folder for --out, or add --force to replace them.`);
    }
  }
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const temps: [tmp: string, final: string][] = [];
  try {
    for (const [name, data] of files) {
      const tmp = join(dir, `.${basename(name)}.${tag}.tmp`);
      const fd = openSync(tmp, 'wx', 0o644);
      temps.push([tmp, join(dir, name)]);
      try {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
        let off = 0;
        while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    // Nothing is replaced unless every file can be: a folder in the way of one is found before any rename.
    const blocked = temps.find(([, final]) => statOrUndefined(final)?.isDirectory());
    if (blocked) throw new ModelError(blocked[1], 'is a folder, so the file cannot be written there.', 'Move that folder away, or give --out another folder.');
    const binFirst = [...temps.filter(([, f]) => f.endsWith('.bin')), ...temps.filter(([, f]) => !f.endsWith('.bin'))];
    for (const [tmp, final] of binFirst) {
      renameSync(tmp, final);
      target.written.add(basename(final));
    }
  } catch (e) {
    for (const [tmp] of temps) {
      try {
        unlinkSync(tmp);
      } catch {
        // already renamed or never made
      }
    }
    if (e instanceof ModelError) throw e;
    throw cannotWrite(dir, e);
  }
}
