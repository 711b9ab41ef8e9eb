/**
 * Issue "Structural channel pruning and export": the prune panel's live cost, pruning the built-in
 * model, the original-vs-pruned comparison, and both exports (downloaded files, IndexedDB) loading
 * back in plain TensorFlow.js with the outputs the app showed.
 *
 * These journeys open the small untrained MobileNet-like model (models/builtin, `?demo=builtin`),
 * whose group names and widths they check, whatever demo model the app opens on by default.
 */
import { test, expect, type Download, type Locator, type Page, type BrowserContext } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { waitForModel, collectErrors, pickFiles, goToStep, setRange } from './helpers';
import { writeSequentialCnn, fixtureDir } from './fixtures';
import { sampleValues } from '../src/app/lib/sample-input';

const require = createRequire(import.meta.url);
const TF_JS = require.resolve('@tensorflow/tfjs/dist/tf.min.js');

async function num(l: Locator): Promise<number> {
  return Number(await l.getAttribute('data-value'));
}

/** Values of the first output as the app showed them. */
async function shownOutput(page: Page, side: 'original' | 'pruned'): Promise<number[]> {
  const attr = await page.getByTestId(`${side}-output`).getAttribute('data-values');
  return (JSON.parse(attr!) as number[][])[0];
}

async function openAndPrune(page: Page, ratio = 0.5): Promise<void> {
  await page.goto('/?demo=builtin');
  await waitForModel(page);
  await goToStep(page, 'compress');
  await setRange(page.getByTestId('ratio-slider'), ratio);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();
}

/**
 * A blank page on the app's origin (so it shares IndexedDB with the app) that has the stock
 * tf.min.js and nothing of the app; `files` are served next to it under /__check/.
 */
async function plainTfPage(context: BrowserContext, files: Record<string, string> = {}): Promise<Page> {
  const page = await context.newPage();
  await page.route('**/__check/**', async (route) => {
    const name = new URL(route.request().url()).pathname.slice('/__check/'.length);
    if (name === 'index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>check</title>' });
    if (name === 'tf.min.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: readFileSync(TF_JS) });
    const file = files[name];
    if (!file) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, body: readFileSync(file), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
  await page.goto('/__check/index.html');
  await page.addScriptTag({ url: '/__check/tf.min.js' });
  await page.evaluate(async () => {
    const tf = (globalThis as any).tf;
    await tf.setBackend('cpu');
    await tf.ready();
  });
  return page;
}

/** Loads `url` with tf.loadLayersModel in `page` and runs it on the app's sample input. */
async function predictInPlainTf(page: Page, url: string): Promise<{ values: number[]; params: number; inputShape: number[] }> {
  const shape = await page.evaluate(async (u) => {
    const tf = (globalThis as any).tf;
    const m = await tf.loadLayersModel(u);
    const s = m.inputs[0].shape.map((d: number | null, i: number) => (i === 0 ? 1 : d));
    m.dispose();
    return s as number[];
  }, url);
  const input = Array.from(sampleValues(shape.reduce((p, d) => p * d, 1)));
  const r = await page.evaluate(
    async ({ u, input, shape }) => {
      const tf = (globalThis as any).tf;
      const m = await tf.loadLayersModel(u);
      const x = tf.tensor(input, shape, 'float32');
      const y = m.predict(x);
      const values = Array.from(await y.data()) as number[];
      const params = m.countParams() as number;
      tf.dispose([x, y]);
      m.dispose();
      return { values, params };
    },
    { u: url, input, shape },
  );
  return { ...r, inputShape: shape };
}

function expectClose(actual: number[], expected: number[], tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  expect(worst).toBeLessThan(tol);
}

test('the uniform slider updates MACs and params live; Prune shows a smaller model and its outputs', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/?demo=builtin');
  await waitForModel(page);
  const panel = page.getByTestId('prune-panel');
  await expect(panel).toBeVisible();

  const macs0 = await num(page.getByTestId('live-macs'));
  const params0 = await num(page.getByTestId('live-params'));
  expect(macs0).toBeGreaterThan(0);
  await expect(page.getByTestId('live-macs-pct')).toContainText('100.0%');

  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await expect(page.getByTestId('ratio-value')).toHaveText('0.50');
  // Live cost: no Prune pressed yet, the numbers already dropped.
  await expect.poll(() => num(page.getByTestId('live-macs'))).toBeLessThan(macs0 * 0.6);
  const liveMacs = await num(page.getByTestId('live-macs'));
  const liveParams = await num(page.getByTestId('live-params'));
  expect(liveParams).toBeLessThan(params0 * 0.6);
  await expect(page.getByTestId('live-macs-pct')).not.toContainText('100.0%');
  // Each prunable group keeps half its channels, a multiple of 8 (stem 32 -> 16, block4_pw 256 -> 128).
  await expect(page.locator('[data-testid=group-slider][data-group=stem] [data-testid=group-keep]')).toHaveText('16');
  await expect(page.locator('[data-testid=group-slider][data-group=block4_pw] [data-testid=group-keep]')).toHaveText('128');

  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();
  const origParams = await num(page.getByTestId('orig-params'));
  const prunedParams = await num(page.getByTestId('pruned-params'));
  const origMacs = await num(page.getByTestId('orig-macs'));
  const prunedMacs = await num(page.getByTestId('pruned-macs'));
  expect(origParams).toBe(params0);
  expect(origMacs).toBe(macs0);
  expect(prunedParams).toBeLessThan(origParams);
  expect(prunedMacs).toBeLessThan(origMacs);
  // What the sliders promised is what Prune delivered.
  expect(prunedMacs).toBe(liveMacs);
  expect(prunedParams).toBe(liveParams);
  expect(await num(page.getByTestId('pruned-bytes'))).toBeLessThan(await num(page.getByTestId('orig-bytes')));

  // Both outputs are shown: 10 class scores each, an argmax, and their largest difference.
  const orig = await shownOutput(page, 'original');
  const pruned = await shownOutput(page, 'pruned');
  expect(orig).toHaveLength(10);
  expect(pruned).toHaveLength(10);
  await expect(page.getByTestId('original-argmax')).toHaveText(/^\d$/);
  await expect(page.getByTestId('pruned-argmax')).toHaveText(/^\d$/);
  const diff = await num(page.getByTestId('output-diff'));
  expect(diff).toBeCloseTo(Math.max(...orig.map((v, i) => Math.abs(v - pruned[i]))), 6);
  await expect(page.getByTestId('snippet-files')).toHaveText("const model = await tf.loadLayersModel('builtin-pruned.json');");
  await expect(page.getByTestId('snippet-idb')).toHaveText("const model = await tf.loadLayersModel('indexeddb://amc-builtin-pruned');");
  expect(errors).toEqual([]);
});

test('Download gives builtin-pruned.json, .weights.bin and .report.json (named as tf.io downloads:// names them) that plain tfjs loads with the same outputs', async ({ page, context }) => {
  const errors = collectErrors(page);
  await openAndPrune(page, 0.5);
  const shown = await shownOutput(page, 'pruned');
  const prunedParams = await num(page.getByTestId('pruned-params'));

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByTestId('download-all').click();
  await expect.poll(() => downloads.length).toBe(3);
  const dir = fixtureDir('download');
  const saved: Record<string, string> = {};
  for (const d of downloads) {
    saved[d.suggestedFilename()] = join(dir, d.suggestedFilename());
    await d.saveAs(saved[d.suggestedFilename()]);
  }
  expect(Object.keys(saved).sort()).toEqual(['builtin-pruned.json', 'builtin-pruned.report.json', 'builtin-pruned.weights.bin']);

  const modelJson = JSON.parse(readFileSync(saved['builtin-pruned.json'], 'utf8'));
  expect(modelJson.format).toBe('layers-model');
  expect(modelJson.weightsManifest[0].paths).toEqual(['./builtin-pruned.weights.bin']);
  const report = JSON.parse(readFileSync(saved['builtin-pruned.report.json'], 'utf8'));
  expect(report.pruned.params).toBe(prunedParams);
  expect(report.pruned.params).toBeLessThan(report.original.params);
  expect(report.policy.stem).toBe(16);
  expect(report.options).toMatchObject({ criterion: 'l1', roundTo: 8 });

  // A fresh page with nothing of the app: stock tf.min.js loads the two downloaded files by URL.
  const check = await plainTfPage(context, { 'builtin-pruned.json': saved['builtin-pruned.json'], 'builtin-pruned.weights.bin': saved['builtin-pruned.weights.bin'] });
  const r = await predictInPlainTf(check, '/__check/builtin-pruned.json');
  expect(r.inputShape).toEqual([1, 32, 32, 3]);
  expect(r.params).toBe(prunedParams);
  expectClose(r.values, shown);

  // The single-file links carry the same files.
  await expect(page.getByTestId('download-link')).toHaveCount(3);
  const one = page.waitForEvent('download');
  await page.locator('[data-testid=download-link][data-file="builtin-pruned.weights.bin"]').click();
  const d = await one;
  expect(d.suggestedFilename()).toBe('builtin-pruned.weights.bin');
  const again = join(dir, 'again.bin');
  await d.saveAs(again);
  expect(readFileSync(again).equals(readFileSync(saved['builtin-pruned.weights.bin']))).toBe(true);
  expect(errors).toEqual([]);
});

test('Save to browser storage writes indexeddb://amc-builtin-pruned, which tfjs loads back with the same outputs', async ({ page, context }) => {
  const errors = collectErrors(page);
  await openAndPrune(page, 0.5);
  const shown = await shownOutput(page, 'pruned');
  const prunedParams = await num(page.getByTestId('pruned-params'));

  await page.getByTestId('save-idb').click();
  const status = page.getByTestId('save-status');
  await expect(status).toBeVisible();
  await expect(status).toHaveAttribute('data-url', 'indexeddb://amc-builtin-pruned');
  await expect(status).toContainText('Saved as indexeddb://amc-builtin-pruned');

  const check = await plainTfPage(context);
  const listed = await check.evaluate(async () => Object.keys(await (globalThis as any).tf.io.listModels()));
  expect(listed).toContain('indexeddb://amc-builtin-pruned');
  const r = await predictInPlainTf(check, 'indexeddb://amc-builtin-pruned');
  expect(r.params).toBe(prunedParams);
  expectClose(r.values, shown);
  expect(errors).toEqual([]);
});

test('per-group sliders snap to 8 unless rounding is off; criteria work; pruning again leaves no tensors behind', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/?demo=builtin');
  await waitForModel(page);
  const slider = page.locator('[data-testid=group-slider][data-group=block2_pw]');
  const keep = slider.getByTestId('group-keep');
  const macsBefore = await num(page.getByTestId('live-macs'));

  await setRange(slider.locator('input'), 43);
  await expect(keep).toHaveText('40');
  await expect.poll(() => num(page.getByTestId('live-macs'))).toBeLessThan(macsBefore);
  await page.getByTestId('round-to-8').uncheck();
  await setRange(slider.locator('input'), 43);
  await expect(keep).toHaveText('43');

  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();
  const tensors = Number(await page.getByTestId('prune-tensors').textContent());
  expect(tensors).toBeGreaterThan(0);
  expect(await num(page.getByTestId('pruned-params'))).toBeLessThan(await num(page.getByTestId('orig-params')));

  // Prune repeatedly with other settings: the count of live tensors stays where it was.
  for (const [ratio, criterion] of [[0.3, 'l2'], [0.75, 'producer-l1'], [0.5, 'l1']] as const) {
    await setRange(page.getByTestId('ratio-slider'), ratio);
    await page.getByTestId('criterion').selectOption(criterion);
    const before = await num(page.getByTestId('live-macs'));
    await page.getByTestId('prune-button').click();
    await expect(page.getByTestId('pruned-macs')).toHaveAttribute('data-value', String(before));
    await expect(page.getByTestId('prune-button')).toBeEnabled();
    await expect(page.getByTestId('prune-tensors')).toHaveText(String(tensors));
  }
  // Turning rounding back on snaps every slider to a multiple of 8 again.
  await page.getByTestId('round-to-8').check();
  await setRange(slider.locator('input'), 43);
  await expect(keep).toHaveText('40');
  expect(errors).toEqual([]);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 });

  test('at 390 px the prune panel, comparison and export fit without sideways scrolling', async ({ page }) => {
    await openAndPrune(page, 0.5);
    await page.getByTestId('prune-panel').scrollIntoViewIfNeeded();
    const o = await page.evaluate(() => ({
      doc: document.documentElement.scrollWidth,
      body: document.body.scrollWidth,
      width: document.documentElement.clientWidth,
    }));
    expect(o.width).toBe(390);
    expect(o.doc).toBeLessThanOrEqual(390);
    expect(o.body).toBeLessThanOrEqual(390);
    for (const id of ['prune-panel', 'prune-button', 'download-all', 'save-idb', 'ratio-slider']) {
      const box = await page.getByTestId(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x, id).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
    }
  });
});

test('a failed save to browser storage is shown clearly and the rest keeps working', async ({ page }) => {
  const errors = collectErrors(page);
  // Storage refuses to open, as a full disk or a locked-down private window would.
  await page.addInitScript(() => {
    IDBFactory.prototype.open = function () {
      throw new DOMException('Storage is full', 'QuotaExceededError');
    };
  });
  await openAndPrune(page, 0.5);
  await page.getByTestId('save-idb').click();
  await expect(page.getByTestId('save-error')).toContainText('Could not save to browser storage: Storage is full');
  await expect(page.getByTestId('save-status')).toHaveCount(0);
  await expect(page.getByTestId('save-idb')).toBeEnabled();

  // Downloads and pruning again still work.
  const one = page.waitForEvent('download');
  await page.locator('[data-testid=download-link][data-file="builtin-pruned.json"]').click();
  expect((await one).suggestedFilename()).toBe('builtin-pruned.json');
  const tensors = await page.getByTestId('prune-tensors').textContent();
  await setRange(page.getByTestId('ratio-slider'), 0.25);
  const live = await num(page.getByTestId('live-macs'));
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('pruned-macs')).toHaveAttribute('data-value', String(live));
  await expect(page.getByTestId('save-error')).toHaveCount(0);
  await expect(page.getByTestId('prune-tensors')).toHaveText(tensors!);
  expect(errors).toEqual([]);
});

test('loading another model resets the panel to that model\'s groups, and it prunes too', async ({ page }) => {
  const errors = collectErrors(page);
  const cnn = await writeSequentialCnn(join(fixtureDir('prune'), 'cnn'), { size: 12, channels: 3, filters: 16, classes: 4 });
  await openAndPrune(page, 0.5);
  await pickFiles(page, cnn.files);
  await expect(page.getByTestId('summary')).toContainText('model.json');
  await waitForModel(page);
  await expect(page.getByTestId('prune-result')).toHaveCount(0);
  await expect(page.getByTestId('ratio-value')).toHaveText('1.00');
  await expect(page.getByTestId('group-slider')).toHaveCount(1);
  await expect(page.locator('[data-testid=group-slider][data-group=conv1] [data-testid=group-keep]')).toHaveText('16');
  await expect(page.getByTestId('live-params')).toHaveAttribute('data-value', String(cnn.params));

  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await expect(page.locator('[data-testid=group-slider][data-group=conv1] [data-testid=group-keep]')).toHaveText('8');
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();
  expect(await num(page.getByTestId('pruned-params'))).toBeLessThan(cnn.params);
  expect(await shownOutput(page, 'pruned')).toHaveLength(4);
  expect(errors).toEqual([]);
});
