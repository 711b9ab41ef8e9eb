/**
 * Issue "Load and inspect any TensorFlow.js LayersModel": the built-in model on first open,
 * a dropped model, a model from ?url=, and clear refusals that leave the app working.
 */
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeSequentialCnn, writeDynamicCnn, writeGraphModel, fixtureDir, type FixtureModel } from './fixtures';
import { waitForModel, pickFiles, dropFiles, layerRows, collectErrors } from './helpers';

let cnn: FixtureModel;
let dynamic: FixtureModel;
let graphFiles: string[];

test.beforeAll(async () => {
  const root = fixtureDir('inspect');
  cnn = await writeSequentialCnn(join(root, 'tm-export'), { size: 12, channels: 3, filters: 8, classes: 4, metadata: true });
  dynamic = await writeDynamicCnn(join(root, 'dynamic'));
  graphFiles = writeGraphModel(join(root, 'graph'));
});

test('first open shows the built-in model with totals, a layer table and groups, and runs it on WASM', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveText('WASM');
  await expect(page.getByTestId('backend-reason')).toContainText(/WebGPU adapter is a fallback \(SwiftShader\).*using WASM|using WASM/);
  await waitForModel(page);
  await expect(page.getByTestId('summary')).toContainText('Built-in demo');
  for (const id of ['total-params', 'total-macs', 'total-bytes']) {
    await expect(page.getByTestId(id)).not.toHaveText('–');
    await expect(page.getByTestId(id)).toHaveText(/\d/);
  }
  await expect(page.getByTestId('input-shape')).toContainText('[');
  const rows = await layerRows(page);
  expect(rows.length).toBeGreaterThan(2);
  expect(rows[0].type).toBe('InputLayer');
  await expect(page.getByTestId('group').first()).toBeVisible();
  await expect(page.getByTestId('run-status')).toContainText(/runs on wasm: output shapes \[1, \d+/);
  expect(errors).toEqual([]);
});

test('a dropped Teachable-Machine-like export is recognised by content and inspected on WASM', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);
  const tensorsBuiltin = Number(await page.getByTestId('tensor-count').textContent());

  // metadata.json comes first: the loader must pick model.json by what it contains.
  await pickFiles(page, [cnn.files[2], cnn.files[0], cnn.files[1]]);
  await expect(page.getByTestId('summary')).toContainText('model.json');
  // Loose files: the Teachable Machine metadata.json names the model, not "model.json".
  await expect(page.getByTestId('model-name')).toHaveText('fixture');
  await waitForModel(page);

  await expect(page.getByTestId('total-params')).toHaveAttribute('title', cnn.params.toLocaleString('en-US'));
  const bytes = readFileSync(cnn.modelJson).byteLength + readFileSync(cnn.weights).byteLength;
  await expect(page.getByTestId('total-bytes')).toHaveAttribute('title', `${bytes.toLocaleString('en-US')} bytes`);
  await expect(page.getByTestId('input-shape')).toContainText('[?, 12, 12, 3]');
  await expect(page.getByTestId('notes')).toContainText('metadata.json');
  await expect(page.getByTestId('notes')).toContainText('4 class names (from metadata.json): class 1, class 2');

  const rows = await layerRows(page);
  expect(rows.map((r) => r.layer)).toEqual(expect.arrayContaining(['conv1', 'bn1', 'relu1', 'flatten', 'logits']));
  const conv = rows.find((r) => r.layer === 'conv1')!;
  expect(conv.type).toBe('Conv2D');
  expect(conv.shape).toBe('[?, 12, 12, 8]');
  expect(conv.macs).toContain(cnn.macs.conv1.toLocaleString('en-US'));
  expect(rows.find((r) => r.layer === 'logits')!.macs).toContain(cnn.macs.logits.toLocaleString('en-US'));

  // conv1's 8 channels are one prunable group (BN and ReLU pass them, Flatten feeds them to Dense).
  const group = page.locator('[data-testid=group][data-group="conv1"]');
  await expect(group).toContainText('8 ch');
  await expect(group).toContainText('prunable');
  await expect(group).toContainText('logits');
  await expect(page.getByTestId('group').filter({ hasText: 'frozen' }).first()).toBeVisible();

  await expect(page.getByTestId('backend-name')).toHaveText('WASM');
  await expect(page.getByTestId('run-status')).toContainText('runs on wasm: output shapes [1, 4]');

  // Loading the same export again leaves no tensors behind from the previous model.
  const tensors = Number(await page.getByTestId('tensor-count').textContent());
  await pickFiles(page, cnn.files);
  await waitForModel(page);
  await expect(page.getByTestId('tensor-count')).toHaveText(String(tensors));
  expect(tensors).toBeGreaterThan(0);
  expect(tensorsBuiltin).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('bad drops show a clear error naming file, problem and fix; a good drop afterwards still works', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);

  // A GraphModel is refused, and the model already shown stays usable.
  await pickFiles(page, graphFiles);
  const panel = page.getByTestId('load-error');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('error-file')).toContainText('model.json');
  await expect(page.getByTestId('error-problem')).toContainText('GraphModel');
  await expect(page.getByTestId('error-fix')).toContainText('LayersModel');
  await expect(page.getByTestId('summary')).toContainText('Built-in demo');
  await expect(page.getByTestId('layer-table')).toBeVisible();

  // model.json without its weights file: the error names the missing file.
  await pickFiles(page, [cnn.modelJson]);
  await expect(page.getByTestId('error-file')).toHaveText('./weights.bin');
  await expect(page.getByTestId('error-problem')).toContainText('not among the files');
  await expect(page.getByTestId('error-fix')).toContainText(/together with model\.json|whole folder/);

  // A good drop (a real drop event on the page) clears the error and shows the model.
  await dropFiles(page, cnn.files);
  await expect(panel).toHaveCount(0);
  await waitForModel(page);
  await expect(page.getByTestId('total-params')).toHaveAttribute('title', cnn.params.toLocaleString('en-US'));
  await expect(page.getByTestId('run-status')).toContainText('output shapes [1, 4]');
  expect(errors).toEqual([]);
});

test('?url= loads a model.json and its shards from a URL, with byte progress; a missing shard is a clear error', async ({ page }) => {
  const served = new Map<string, string>([
    ['/remote/good/model.json', cnn.modelJson],
    ['/remote/good/weights.bin', cnn.weights],
    ['/remote/broken/model.json', cnn.modelJson],
  ]);
  await page.route('**/remote/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = served.get(path);
    if (!file) return route.fulfill({ status: 404, body: 'not found' });
    await route.fulfill({ status: 200, body: readFileSync(file), contentType: path.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });

  let releaseWeights!: () => void;
  const weightsHeld = new Promise<void>((r) => (releaseWeights = r));
  await page.route('**/remote/good/weights.bin', async (route) => {
    await weightsHeld;
    await route.fallback();
  });

  await page.goto('/?url=' + encodeURIComponent('/remote/good/model.json'));
  // While the weights are on their way, progress shows the bytes read so far.
  await expect(page.getByTestId('load-progress')).toBeVisible();
  await expect(page.getByTestId('load-bytes')).toContainText(/\d+(\.\d+)? (B|KiB)/);
  releaseWeights();
  await waitForModel(page);
  await expect(page.getByTestId('load-progress')).toHaveCount(0);
  await expect(page.getByTestId('summary')).toContainText('/remote/good/model.json');
  await expect(page.getByTestId('total-params')).toHaveAttribute('title', cnn.params.toLocaleString('en-US'));

  await page.goto('/?url=' + encodeURIComponent('/remote/broken/model.json'));
  await expect(page.getByTestId('load-error')).toBeVisible();
  await expect(page.getByTestId('error-file')).toContainText('weights.bin');
  await expect(page.getByTestId('error-problem')).toContainText('404');
});

test('a folder chosen with the folder picker loads with its relative paths', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  await page.getByTestId('folder-input').setInputFiles(cnn.dir);
  await expect(page.getByTestId('summary')).toContainText('model.json');
  await waitForModel(page);
  await expect(page.getByTestId('total-params')).toHaveAttribute('title', cnn.params.toLocaleString('en-US'));
});

test('a model with dynamic height/width states the assumed size, and the input-size field re-analyzes', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, dynamic.files);
  await waitForModel(page);
  await expect(page.getByTestId('input-shape')).toContainText('[?, ?, ?, 3]');
  await expect(page.getByTestId('assumptions')).toContainText('assumed 224');
  await expect(page.getByTestId('input-size')).toHaveValue('224');
  let conv = (await layerRows(page)).find((r) => r.layer === 'conv1')!;
  expect(conv.macs).toContain(dynamic.macs.conv1.toLocaleString('en-US'));
  await expect(page.getByTestId('run-status')).toContainText('[1, 224, 224, 3]');

  await page.getByTestId('input-size').fill('64');
  await page.getByTestId('input-size').press('Enter');
  await expect(page.getByTestId('assumptions')).toContainText('assumed 64');
  conv = (await layerRows(page)).find((r) => r.layer === 'conv1')!;
  expect(conv.shape).toBe('[?, 64, 64, 8]');
  expect(conv.macs).toContain((64 * 64 * 9 * 3 * 8).toLocaleString('en-US'));
  await expect(page.getByTestId('run-status')).toContainText('[1, 64, 64, 3]');
  await expect(page.getByTestId('run-status')).toContainText('output shapes [1, 2]');
});

test('the backend selector switches backends and re-runs the model on the new one', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  await page.locator('#backend-select').selectOption('cpu');
  await expect(page.getByTestId('backend-name')).toHaveText('CPU');
  await expect(page.getByTestId('run-status')).toContainText('runs on cpu: output shapes [1, ');
  await expect(page).toHaveURL(/backend=cpu/);
  await page.locator('#backend-select').selectOption('wasm');
  await expect(page.getByTestId('run-status')).toContainText('runs on wasm: output shapes [1, ');
});
