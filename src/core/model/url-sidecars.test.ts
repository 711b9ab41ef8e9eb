import { describe, expect, it } from 'vitest';
import { sidecarsFromUrl } from './url-sidecars';
import { filesFromUrl } from './files';
import { loadModel } from './load';
import { modelClassNames, modelDisplayName } from './identity';
import { exportModel, sequentialCnn } from '../../testing/fixtures';

/** A static host: `files` by absolute URL; anything else 404, or the index page when `spa`. */
function host(files: Record<string, string | ArrayBuffer>, o: { spa?: boolean; fail?: boolean } = {}): { fetch: typeof fetch; asked: string[] } {
  const asked: string[] = [];
  const f = (async (input: RequestInfo | URL) => {
    const url = String(input);
    asked.push(url);
    if (o.fail && !url.endsWith('model.json') && !url.endsWith('.bin')) throw new TypeError('Failed to fetch');
    const body = files[url];
    if (body !== undefined) return new Response(body, { status: 200, headers: { 'content-type': url.endsWith('.json') ? 'application/json' : 'text/plain' } });
    if (o.spa) return new Response('<!doctype html><title>app</title>', { status: 200, headers: { 'content-type': 'text/html' } });
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetch: f, asked };
}

describe('files beside a model.json URL', () => {
  it('fetches metadata.json, labels.txt and class_names.txt from the model folder, those that exist, in its path form', async () => {
    const h = host({ 'https://x.org/m/labels.txt': 'cat\ndog\n', 'https://x.org/m/metadata.json': JSON.stringify({ modelName: 'Pets' }) });
    const found = await sidecarsFromUrl('https://x.org/m/model.json?v=2', h.fetch);
    expect(found.map((f) => f.path).sort()).toEqual(['https://x.org/m/labels.txt', 'https://x.org/m/metadata.json']);
    expect(h.asked.sort()).toEqual(['https://x.org/m/class_names.txt', 'https://x.org/m/labels.txt', 'https://x.org/m/metadata.json']);
    expect(new TextDecoder().decode(await found.find((f) => f.path.endsWith('labels.txt'))!.read())).toBe('cat\ndog\n');
    // A relative model URL gives relative paths, in the same folder as the model's.
    const rel = await sidecarsFromUrl('m/model.json', host({ 'http://localhost/m/labels.txt': 'a\n' }).fetch);
    expect(rel.map((f) => f.path)).toEqual(['m/labels.txt']);
  });

  it('is silent about what is missing: a 404, a network or CORS failure, an index page for every path, broken JSON', async () => {
    expect(await sidecarsFromUrl('https://x.org/m/model.json', host({}).fetch)).toEqual([]);
    expect(await sidecarsFromUrl('https://x.org/m/model.json', host({ 'https://x.org/m/labels.txt': 'a' }, { fail: true }).fetch)).toEqual([]);
    expect(await sidecarsFromUrl('https://x.org/m/model.json', host({}, { spa: true }).fetch)).toEqual([]);
    expect(await sidecarsFromUrl('https://x.org/m/model.json', host({ 'https://x.org/m/metadata.json': '{"labels": [' }).fetch)).toEqual([]);
    expect(await sidecarsFromUrl('https://x.org/m/model.json', host({ 'https://x.org/m/labels.txt': '<html><body>sign in</body></html>' }).fetch)).toEqual([]);
  });

  it('with the model from the same URL, they name its classes and the model as a dropped folder would', async () => {
    const e = await exportModel(sequentialCnn());
    const files: Record<string, string | ArrayBuffer> = {
      'https://x.org/plants/model.json': JSON.stringify(e.modelJson),
      'https://x.org/plants/class_names.txt': '0 fern\n1 moss\n2 ivy\n',
      'https://x.org/plants/metadata.json': JSON.stringify({ modelName: 'Garden' }),
    };
    for (const [name, data] of Object.entries(e.shards)) files[`https://x.org/plants/${name}`] = data;
    const h = host(files);
    const all = [...(await filesFromUrl('https://x.org/plants/model.json', h.fetch)), ...(await sidecarsFromUrl('https://x.org/plants/model.json', h.fetch))];
    const model = await loadModel(all, undefined, { build: false });
    expect(model.sidecars['metadata.json']).toEqual({ modelName: 'Garden' });
    expect(await modelClassNames(all, model.source, model.sidecars, 3)).toEqual({ classNames: { names: ['fern', 'moss', 'ivy'], from: 'class_names.txt' } });
    expect(modelDisplayName({ kind: 'url', path: 'https://x.org/plants/model.json', sidecars: model.sidecars })).toBe('Garden');
  });
});
