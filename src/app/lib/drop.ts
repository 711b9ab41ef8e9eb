/**
 * Files from a drag and drop: several files, a whole folder (walked with webkitGetAsEntry),
 * or both. Paths keep the folder structure ("export/model.json") so shards resolve relative
 * to model.json the same way they do for the folder picker.
 */
import { filesFromBrowser, type ModelFile } from '../../core/model/files';
import { isImagePath } from '../../core/data/images';

/** Files that are image data for the data panel rather than a model: some images and no weight files. */
export function isImageData(files: ModelFile[]): boolean {
  return files.some((f) => isImagePath(f.path)) && !files.some((f) => /\.bin$/i.test(f.path));
}

function fromFile(file: File, path: string): ModelFile {
  return { path, size: file.size, read: () => file.arrayBuffer() };
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

/** Walks a directory; readEntries returns at most ~100 entries per call, so it is called until empty. */
async function walk(entry: FileSystemEntry, out: ModelFile[], depth = 0): Promise<void> {
  if (entry.isFile) {
    const file = await fileOf(entry as FileSystemFileEntry);
    out.push(fromFile(file, entry.fullPath.replace(/^\//, '') || file.name));
  } else if (entry.isDirectory && depth < 8) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await readBatch(reader);
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out, depth + 1);
    }
  }
}

/**
 * Must be called synchronously inside the drop handler: the DataTransfer items are only
 * readable during the event, so entries are taken first and walked afterwards.
 */
export function filesFromDataTransfer(dt: DataTransfer): Promise<ModelFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  const items = dt.items ? Array.from(dt.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    // Top-level files come straight from getAsFile(); only folders need the entry API.
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (items.length === 0 && dt.files) loose.push(...Array.from(dt.files));
  return (async () => {
    const out: ModelFile[] = [];
    for (const e of entries) await walk(e, out);
    out.push(...filesFromBrowser(loose));
    return out;
  })();
}

/** True when a drag carries files (not text or a link). */
export function dragHasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}
