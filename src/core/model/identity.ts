/**
 * What a model is called and what its classes are called, from what came with it: never
 * "model.json" when the folder, a Teachable Machine metadata.json or the URL says more, and class
 * names from metadata.json `labels`, labels.txt or class_names.txt beside model.json.
 */
import { baseName, dirName, type ModelFile } from './files';

/** Teachable Machine's metadata.json `modelName` (any metadata.json with a non-empty one). */
export function metadataModelName(sidecars: Record<string, unknown>): string | undefined {
  const n = (sidecars['metadata.json'] as { modelName?: unknown } | undefined)?.modelName;
  return typeof n === 'string' && n.trim() ? n.trim() : undefined;
}

/** A JSON file name other than model.json names the model ("mnist.json" -> "mnist"). */
function stemOf(file: string): string | undefined {
  return /\.json$/i.test(file) && !/^model\.json$/i.test(file) ? file.replace(/\.json$/i, '') : undefined;
}

/**
 * The model's name for people. A dropped file: its folder, else metadata.json's modelName, else its
 * file name without .json, else "model.json". A URL: metadata.json's modelName, else the URL's last
 * folder (or its file name when it is not model.json), else its host. A bundled model: its folder in models/.
 */
export function modelDisplayName(o: { kind: 'files' | 'url' | 'builtin'; path: string; sidecars?: Record<string, unknown>; demo?: string }): string {
  if (o.kind === 'builtin' && o.demo) return o.demo;
  const meta = metadataModelName(o.sidecars ?? {});
  if (o.kind === 'url') {
    if (meta) return meta;
    let url: URL | undefined;
    try {
      url = new URL(o.path);
    } catch {
      url = undefined;
    }
    const parts = (url ? url.pathname : o.path.split(/[?#]/)[0]).split('/').filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    const file = parts.length && /\.json$/i.test(parts[parts.length - 1]) ? parts.pop()! : undefined;
    const stem = file ? stemOf(file) : undefined;
    return stem ?? parts[parts.length - 1] ?? url?.host ?? baseName(o.path) ?? 'model.json';
  }
  const path = o.path.replace(/\\/g, '/');
  const folder = dirName(path).replace(/\/+$/, '');
  if (folder) return baseName(folder);
  return meta ?? stemOf(baseName(path)) ?? (baseName(path) || 'model.json');
}

export interface ClassNames {
  names: string[];
  /** The file they came from: "metadata.json", "labels.txt", "class_names.txt". */
  from: string;
}

/** Lines of a labels file: one name a line, blank lines dropped; "0 cat" / "1 dog" numbering (Teachable Machine's Keras export) removed. */
export function parseLabelLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const numbered = lines.length > 0 && lines.every((l, i) => new RegExp(`^${i}[\\s:,]+\\S`).test(l));
  return numbered ? lines.map((l) => l.replace(/^\d+[\s:,]+/, '')) : lines;
}

const LABEL_FILES = [/^labels\.txt$/i, /^class_names\.txt$/i];

/**
 * Class names that came with a model, in output order: metadata.json `labels` (already parsed by
 * the loader as a sidecar), else labels.txt, else class_names.txt in model.json's folder.
 * Names whose count differs from the model's outputs are not used: `problem` says why.
 */
export async function modelClassNames(
  files: ModelFile[],
  modelPath: string,
  sidecars: Record<string, unknown>,
  outputs?: number,
): Promise<{ classNames?: ClassNames; problem?: string }> {
  let found: ClassNames | undefined;
  const labels = (sidecars['metadata.json'] as { labels?: unknown } | undefined)?.labels;
  if (Array.isArray(labels) && labels.length > 0 && labels.every((x) => typeof x === 'string')) found = { names: labels as string[], from: 'metadata.json' };
  if (!found) {
    const dir = dirName(modelPath.replace(/\\/g, '/'));
    for (const pattern of LABEL_FILES) {
      const file = files.find((f) => {
        const p = f.path.replace(/\\/g, '/');
        return dirName(p) === dir && pattern.test(baseName(p));
      });
      if (!file) continue;
      let names: string[];
      try {
        names = parseLabelLines(new TextDecoder().decode(await file.read()));
      } catch {
        continue;
      }
      if (names.length) {
        found = { names, from: baseName(file.path) };
        break;
      }
    }
  }
  return fitClassNames(found, outputs);
}

/** Class names are used only when there is one per output (`outputs` unknown: kept). */
export function fitClassNames(found: ClassNames | undefined, outputs?: number): { classNames?: ClassNames; problem?: string } {
  if (!found) return {};
  if (outputs !== undefined && found.names.length !== outputs) {
    return { problem: `${found.from} lists ${found.names.length} class name${found.names.length === 1 ? '' : 's'} but the model has ${outputs} outputs: not used.` };
  }
  return { classNames: found };
}
