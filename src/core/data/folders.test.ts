import { describe, expect, test } from 'vitest';
import { ModelError } from '../model/errors';
import type { ModelFile } from '../model/files';
import { labelSourceText, naturalCompare, planImageFiles, type DataPlan } from './folders';
import { CLASS_NAMES } from './procedural';

function file(path: string, content: string | Uint8Array = new Uint8Array([1])): ModelFile {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return { path, size: bytes.length, read: async () => bytes.slice().buffer as ArrayBuffer };
}

const files = (...paths: string[]) => paths.map((p) => file(p));

/** Image paths per class name, for compact assertions. */
function byClass(plan: DataPlan): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const im of plan.images) (out[plan.classNames[im.label]] ??= []).push(im.file.path);
  return out;
}

async function refusal(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    expect((e as Error).message).not.toContain('\n');
    return e as ModelError;
  }
  throw new Error('expected a refusal');
}

describe('planImageFiles', () => {
  test('a picked folder of class subfolders is labeled; classes are the folder names sorted by code point (as Keras and PyTorch sort them); non-images are skipped', async () => {
    const plan = await planImageFiles(
      files('pets/dog/b.png', 'pets/dog/a.JPG', 'pets/cat/1.png', 'pets/class 10/x.webp', 'pets/class 2/y.gif', 'pets/cat/notes.txt', 'pets/.DS_Store', 'pets/cat/Thumbs.db'),
    );
    expect(plan.kind).toBe('labeled');
    expect(plan.root).toBe('pets');
    expect(plan.classNames).toEqual(['cat', 'class 10', 'class 2', 'dog']);
    expect(plan.counts).toEqual([1, 1, 1, 2]);
    expect(byClass(plan).dog).toEqual(['pets/dog/a.JPG', 'pets/dog/b.png']);
    expect(plan.labelSource).toBe('folder names');
    expect(plan.skipped.map((s) => [s.path, s.reason])).toEqual([
      ['pets/cat/notes.txt', 'not an image'],
      ['pets/.DS_Store', 'system file'],
      ['pets/cat/Thumbs.db', 'system file'],
    ]);
  });

  test('several dropped class folders (no shared root) are labeled too; deeper subfolders belong to their class', async () => {
    const plan = await planImageFiles(files('b/1.png', 'a/x/2.png', 'a/3.png'));
    expect(plan.root).toBe('');
    expect(byClass(plan)).toEqual({ a: ['a/3.png', 'a/x/2.png'], b: ['b/1.png'] });
  });

  test('loose images (or one folder of them) are unlabeled', async () => {
    for (const paths of [['z.png', 'a.png', 'readme.md'], ['shots/z.png', 'shots/a.png']]) {
      const plan = await planImageFiles(files(...paths));
      expect(plan.kind).toBe('unlabeled');
      expect(plan.images.every((i) => i.label === -1)).toBe(true);
      expect(plan.images.map((i) => i.file.path)).toEqual(paths.filter((p) => p.endsWith('.png')).sort());
    }
  });

  test('images beside class folders are skipped and reported', async () => {
    const plan = await planImageFiles(files('d/cat/1.png', 'd/dog/1.png', 'd/stray.png'));
    expect(plan.kind).toBe('labeled');
    expect(plan.skipped).toEqual([{ path: 'd/stray.png', reason: 'image outside the class folders' }]);
  });

  test('a metadata.json among the data gives the output order; folders match labels ignoring case, spaces, _ and -', async () => {
    const plan = await planImageFiles([
      file('data/metadata.json', JSON.stringify({ tmVersion: '2.4.10', labels: ['Zebra', 'big cat', 'ant'] })),
      ...files('data/ant/1.png', 'data/BIG_CAT/1.png', 'data/BIG_CAT/2.png', 'data/zebra/1.png', 'data/whale/1.png'),
    ]);
    expect(plan.labelSource).toBe('data metadata.json');
    expect(plan.labelFile).toBe('data/metadata.json');
    expect(plan.classNames).toEqual(['Zebra', 'big cat', 'ant']);
    expect(plan.counts).toEqual([1, 2, 1]);
    expect(plan.images.map((i) => [i.file.path, i.label])).toEqual([
      ['data/BIG_CAT/1.png', 1],
      ['data/BIG_CAT/2.png', 1],
      ['data/ant/1.png', 2],
      ['data/zebra/1.png', 0],
    ]);
    expect(plan.unmatched).toEqual(['whale']);
    expect(plan.skipped).toEqual([{ path: 'data/whale/1.png', reason: 'folder matches no class label' }]);
  });

  test("labels that came with the model map folders when the data has none; labels.txt works like metadata.json", async () => {
    const plan = await planImageFiles(files('d/b/1.png', 'd/a/1.png'), { modelLabels: ['b', 'a'], numOutputs: 2 });
    expect(plan.labelSource).toBe('model metadata.json');
    expect(byClass(plan)).toEqual({ b: ['d/b/1.png'], a: ['d/a/1.png'] });
    expect(plan.images.find((i) => i.file.path === 'd/b/1.png')!.label).toBe(0);
    const txt = await planImageFiles([file('d/labels.txt', '0 b\n1 a\n'), ...files('d/a/1.png', 'd/b/1.png')]);
    expect(txt.labelSource).toBe('data labels.txt');
    expect(txt.classNames).toEqual(['b', 'a']);
  });

  test("folders named after the demo classes take the demo dataset's order, not alphabetical", async () => {
    const names = [...CLASS_NAMES].reverse();
    const plan = await planImageFiles(files(...names.map((n) => `demo/${n.replace(' ', '_')}/0.png`)), { numOutputs: 10 });
    expect(plan.labelSource).toBe('demo classes');
    expect(plan.classNames).toEqual([...CLASS_NAMES]);
    for (const im of plan.images) expect(im.file.path).toContain(CLASS_NAMES[im.label].replace(' ', '_'));
  });

  test("a model whose labels are not the demo's (demoClasses false) gets the folders' sorted order, not the demo's", async () => {
    const names = [...CLASS_NAMES].reverse();
    const plan = await planImageFiles(files(...names.map((n) => `demo/${n.replace(' ', '_')}/0.png`)), { numOutputs: 10, demoClasses: false });
    expect(plan.labelSource).toBe('folder names');
    expect(plan.classNames).toEqual(names.map((n) => n.replace(' ', '_')).sort());
  });

  test('labels from a labels.txt beside the model name their file', async () => {
    const plan = await planImageFiles(files('d/b/1.png', 'd/a/1.png'), { modelLabels: ['b', 'a'], modelLabelsFile: 'labels.txt', numOutputs: 2 });
    expect(plan).toMatchObject({ labelSource: 'model metadata.json', labelFile: 'labels.txt', classNames: ['b', 'a'] });
    expect(labelSourceText(plan)).toBe("class order from the model's labels.txt");
  });

  test('clear refusals: nothing, no images, an empty class folder, no folder matching a label, class count mismatch', async () => {
    let e = await refusal(planImageFiles([]));
    expect(e.problem).toMatch(/No files/);

    e = await refusal(planImageFiles(files('stuff/a.txt', 'stuff/b.csv')));
    expect(e.file).toBe('stuff');
    expect(e.problem).toMatch(/holds no images \(2 other files skipped: a.txt, b.csv\)/);
    expect(e.fix).toMatch(/one subfolder of images per class/);

    e = await refusal(planImageFiles(files('d/cat/1.png', 'd/dog/readme.txt')));
    expect(e.file).toBe('d/dog/');
    expect(e.problem).toMatch(/class folder with no images \(1 other file\)/);
    expect(e.fix).toMatch(/Put PNG or JPEG images of that class in it, or remove the folder/);

    e = await refusal(planImageFiles([file('d/metadata.json', '{"labels":["x","y"]}'), ...files('d/a/1.png', 'd/b/1.png')]));
    expect(e.problem).toMatch(/class folders \(a, b\) but none is named after a class label of d\/metadata.json \(x, y\)/);

    e = await refusal(planImageFiles(files('d/a/1.png', 'd/b/1.png', 'd/c/1.png'), { numOutputs: 2 }));
    expect(e.problem).toMatch(/has 3 class folders \(a, b, c\) but the model has 2 outputs/);
    expect(e.fix).toMatch(/metadata.json/);

    e = await refusal(planImageFiles([file('d/metadata.json', '{"labels":["x","y","z"]}'), ...files('d/x/1.png')], { numOutputs: 2 }));
    expect(e.file).toBe('d/metadata.json');
    expect(e.problem).toMatch(/lists 3 class labels but the model has 2 outputs/);

    e = await refusal(planImageFiles([file('d/metadata.json', '{"labels": [oops'), ...files('d/x/1.png')]));
    expect(e.file).toBe('d/metadata.json');
    expect(e.problem).toMatch(/not valid JSON/);
  });

  test('a given root (the CLI folder) is stripped even when it holds a single class folder', async () => {
    const plan = await planImageFiles(files('/tmp/x/data/only/1.png'), { root: '/tmp/x/data' });
    expect(plan.kind).toBe('labeled');
    expect(plan.classNames).toEqual(['only']);
  });
});

test('naturalCompare orders digit runs by value', () => {
  expect(['b10', 'b2', 'a', 'b1', 'B3'].sort(naturalCompare)).toEqual(['B3', 'a', 'b1', 'b2', 'b10']);
});
