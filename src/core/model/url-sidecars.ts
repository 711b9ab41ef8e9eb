/**
 * The files that name a model's classes and the model itself, fetched from beside a model.json
 * URL as a dropped folder brings them along: metadata.json (Teachable Machine), labels.txt,
 * class_names.txt. They are optional: a missing one (a 404, a CORS refusal, a network error) is
 * normal and silent, and so is a host that answers every unknown path with its index page.
 */
import { dirName, type ModelFile } from './files';

export const SIDECAR_FILES = ['metadata.json', 'labels.txt', 'class_names.txt'] as const;

/** A label file this long is not a list of class names (an HTML page, a data file). */
const MAX_BYTES = 256 * 1024;

async function fetchSidecar(url: string, path: string, name: string, fetchFn: typeof fetch): Promise<ModelFile | null> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch {
    return null;
  }
  if (!res.ok) return null;
  // Single-page hosts answer any path with their index.html: that is not a sidecar.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) return null;
  const bytes = await res.arrayBuffer().catch(() => null);
  if (!bytes || bytes.byteLength === 0 || bytes.byteLength > MAX_BYTES) return null;
  const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('<')) return null;
  if (name.endsWith('.json')) {
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
    } catch {
      return null;
    }
  }
  return { path, size: bytes.byteLength, read: async () => bytes };
}

/**
 * metadata.json, labels.txt and class_names.txt beside `modelJsonUrl`, those that exist, fetched
 * at once. Their paths are written as the model's is (a relative URL stays relative), in its
 * folder, so the loader and modelClassNames treat them as the same files in a dropped folder.
 */
export async function sidecarsFromUrl(modelJsonUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelFile[]> {
  let base: URL;
  try {
    base = new URL(modelJsonUrl, globalThis.location?.href ?? 'http://localhost/');
  } catch {
    return [];
  }
  // model.json itself may be named metadata.json by someone: never fetch it twice as a sidecar.
  const own = base.pathname.slice(base.pathname.lastIndexOf('/') + 1);
  const dir = dirName(modelJsonUrl.split(/[?#]/)[0]);
  const found = await Promise.all(SIDECAR_FILES.filter((name) => name !== own).map((name) => fetchSidecar(new URL(name, base).href, dir + name, name, fetchFn)));
  return found.filter((f): f is ModelFile => f !== null);
}
