/**
 * Where model files come from: a browser drop or picker, a URL, or the file system (CLI).
 * The loader sees only this interface, so every source gets the same validation.
 */
import { ModelError } from './errors';

export interface ModelFile {
  /** Path as the user knows it: relative path inside a dropped folder, a URL, or a CLI path. */
  path: string;
  size: number;
  read(): Promise<ArrayBuffer>;
}

export function baseName(path: string): string {
  const clean = path.split(/[?#]/)[0];
  return clean.slice(clean.lastIndexOf('/') + 1);
}

export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

/** Files from a drop or an <input type=file>; folders keep their relative paths. */
export function filesFromBrowser(files: File[]): ModelFile[] {
  return files.map((f) => ({
    path: f.webkitRelativePath || f.name,
    size: f.size,
    read: () => f.arrayBuffer(),
  }));
}

/**
 * A model.json URL and the shards its manifest names, fetched lazily relative to it.
 * Sizes of shards are unknown until read, so they report 0 until then.
 */
/** fetch, with a network or CORS failure turned into a message that says what to do. */
async function fetchOrExplain(url: string, shownAs: string, fetchFn: typeof fetch): Promise<Response> {
  try {
    return await fetchFn(url);
  } catch (e) {
    throw new ModelError(
      shownAs,
      `could not be fetched (${String((e as Error).message ?? e)}: offline, or the server refuses cross-origin requests).`,
      'Check the URL and that the server allows CORS, or download the files and drop them on the page.',
    );
  }
}

export async function filesFromUrl(modelJsonUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelFile[]> {
  const res = await fetchOrExplain(modelJsonUrl, modelJsonUrl, fetchFn);
  if (!res.ok) {
    throw new ModelError(modelJsonUrl, `could not be fetched (HTTP ${res.status}).`, 'Check the URL, or download the files and drop them on the page.');
  }
  const text = await res.text();
  const jsonBytes = new TextEncoder().encode(text).buffer as ArrayBuffer;
  const modelFile: ModelFile = { path: modelJsonUrl, size: jsonBytes.byteLength, read: async () => jsonBytes };
  let manifestPaths: string[] = [];
  try {
    const parsed = JSON.parse(text) as { weightsManifest?: { paths?: string[] }[] };
    manifestPaths = (parsed.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  } catch {
    // the loader reports invalid JSON with its position
  }
  const base = new URL(modelJsonUrl, globalThis.location?.href ?? 'http://localhost/');
  const shards = manifestPaths.map((p): ModelFile => {
    const url = new URL(p, base).href;
    return {
      path: url,
      size: 0,
      read: async () => {
        const r = await fetchOrExplain(url, p, fetchFn);
        if (!r.ok) {
                throw new ModelError(p, `is listed in the weights manifest of ${baseName(modelJsonUrl)} but could not be fetched (HTTP ${r.status}).`, 'Put the weight file next to model.json on the server.');
        }
        return r.arrayBuffer();
      },
    };
  });
  return [modelFile, ...shards];
}
