/**
 * Issue 15, "Recover what pruning costs": prune the demo model, fine-tune it in the worker on a
 * small demo:train subset, reload after the first epoch is saved and resume the run, compare,
 * export (float16), and load the export in a plain tfjs page.
 *
 * The subset is small (FT_IMAGES, 256 by default) so the journey fits in a minute on 2 cores; the
 * measured seconds per epoch and the backend are printed for the record.
 */
import { test, expect, type BrowserContext, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { collectErrors, waitForModel, setRange } from './helpers';
import { fixtureDir } from './fixtures';

const require = createRequire(import.meta.url);
const TF_JS = require.resolve('@tensorflow/tfjs/dist/tf.min.js');
const IMAGES = Number(process.env.FT_IMAGES ?? 256);
/** The training backend ('auto': WASM); FT_BACKEND=webgl times WebGL instead. */
const BACKEND = process.env.FT_BACKEND ?? 'auto';

/** A blank page on the app's origin with the stock tf.min.js and nothing of the app; `files` served under /__check/. */
async function plainTfPage(context: BrowserContext, files: Record<string, string>): Promise<Page> {
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

test('prune, fine-tune 2 short epochs in the worker, reload after epoch 1 and resume, export float16, load it in plain tfjs', async ({ page, context }) => {
  test.setTimeout(300_000);
  const errors = collectErrors(page);
  await page.goto('/');
  await waitForModel(page);

  // Prune: every group at half its channels.
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible();
  const prunedParams = Number(await page.getByTestId('pruned-params').getAttribute('data-value'));

  const panel = page.getByTestId('finetune-panel');
  await expect(panel.getByTestId('ft-subject')).toContainText('Prune panel');
  await expect(page.getByTestId('export')).toContainText('fine-tune this model in the Fine-tune panel');
  await panel.getByTestId('ft-count').fill(String(IMAGES));
  await panel.getByTestId('ft-count').dispatchEvent('change');
  await panel.getByTestId('ft-epochs').fill('2');
  await panel.getByTestId('ft-epochs').dispatchEvent('change');
  await panel.getByTestId('ft-backend').selectOption(BACKEND);
  await panel.getByTestId('ft-start').click();

  const status = panel.getByTestId('ft-status');
  await expect(panel.getByTestId('ft-backend-used')).toBeVisible({ timeout: 60_000 });
  const backend = await panel.getByTestId('ft-backend-used').getAttribute('data-backend');
  // Progress per step with the time left, while the page stays responsive.
  await expect(panel.getByTestId('ft-time-left')).toBeVisible({ timeout: 60_000 });
  const t0 = Date.now();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
  expect(Date.now() - t0).toBeLessThan(1000);

  // Pause holds the run between two steps; Resume goes on.
  await panel.getByTestId('ft-pause').click();
  await expect(status).toHaveAttribute('data-state', 'paused');
  const stepText = await status.textContent();
  await page.waitForTimeout(1500);
  expect(await status.textContent()).toBe(stepText);
  await panel.getByTestId('ft-resume').click();
  await expect(status).toHaveAttribute('data-state', 'running');

  // Epoch 1 saved: reload mid-way.
  await expect(status).toHaveAttribute('data-epochs-done', '1', { timeout: 120_000 });
  await expect(status).toHaveAttribute('data-saved', 'true');
  const epoch1 = panel.locator('[data-testid=ft-epoch][data-epoch="1"]');
  const ms1 = Number(await epoch1.getAttribute('data-ms'));
  await expect(panel.getByTestId('ft-chart')).toHaveAttribute('data-points', '2');
  await page.reload();
  await waitForModel(page);

  const offer = panel.getByTestId('ft-offer');
  await expect(offer).toBeVisible();
  await expect(offer).toContainText('epoch 1 of 2');
  await offer.getByTestId('ft-resume-saved').click();
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(panel.getByTestId('ft-epoch')).toHaveCount(3);
  // Epoch 1 came from the saved run (same time as measured before the reload); epoch 2 is new.
  expect(Number(await epoch1.getAttribute('data-ms'))).toBeCloseTo(ms1, 3);
  const ms2 = Number(await panel.locator('[data-testid=ft-epoch][data-epoch="2"]').getAttribute('data-ms'));
  console.log(`fine-tune: ${IMAGES} demo:train images, ${backend}: epoch 1 ${(ms1 / 1000).toFixed(1)} s, epoch 2 ${(ms2 / 1000).toFixed(1)} s`);

  // Compare: original, pruned, fine-tuned on the Data panel's demo:test.
  const compare = panel.getByTestId('ft-compare');
  await expect(compare).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const score = async (w: string) => Number(await panel.getByTestId(`ft-score-${w}`).getAttribute('data-value'));
  const [orig, pruned, fine] = [await score('original'), await score('pruned'), await score('finetuned')];
  console.log(`demo:test top-1: original ${orig}, pruned ${pruned}, fine-tuned ${fine}`);
  expect(orig).toBeGreaterThan(0.8);
  expect(fine).toBeGreaterThanOrEqual(0);

  // Export float16: measured before the download.
  await expect(page.getByTestId('export-finetuned-note')).toHaveCount(0); // the prune panel's outcome went with the reload
  await panel.getByTestId('ft-quantize').selectOption('float16');
  const check = panel.getByTestId('ft-quant-check');
  await expect(check).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const f16 = Number(await check.getAttribute('data-value'));
  expect(Math.abs(f16 - fine)).toBeLessThan(0.02);

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await panel.getByTestId('ft-download').click();
  await expect.poll(() => downloads.length).toBe(3);
  const dir = fixtureDir('finetune');
  const saved: Record<string, string> = {};
  for (const d of downloads) {
    const to = join(dir, d.suggestedFilename());
    await d.saveAs(to);
    saved[d.suggestedFilename()] = to;
  }
  const modelJson = JSON.parse(readFileSync(saved['mobilenet-like-finetuned.json'], 'utf8'));
  expect(modelJson.weightsManifest[0].paths).toEqual(['./mobilenet-like-finetuned.weights.bin']);
  expect(modelJson.weightsManifest[0].weights.some((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16')).toBe(true);
  const report = JSON.parse(readFileSync(saved['mobilenet-like-finetuned.report.json'], 'utf8'));
  expect(report.finetune.epochsDone).toBe(2);
  expect(report.finetune.history.length).toBe(3);
  expect(report.finetune.weights).toBe('float16');
  expect(report.finetune.backend).toBe(backend);
  expect(report.finetune.epochBackends).toEqual({ 1: backend, 2: backend });
  expect(report.pruned.params).toBe(prunedParams);

  // A fresh page with nothing of the app: stock tf.min.js loads the files.
  const plain = await plainTfPage(context, { 'mobilenet-like-finetuned.json': saved['mobilenet-like-finetuned.json'], 'mobilenet-like-finetuned.weights.bin': saved['mobilenet-like-finetuned.weights.bin'] });
  const r = await plain.evaluate(async () => {
    const tf = (globalThis as any).tf;
    const m = await tf.loadLayersModel('/__check/mobilenet-like-finetuned.json');
    const x = tf.randomUniform([1, 32, 32, 3]);
    const y = m.predict(x);
    const out = { shape: y.shape, params: m.countParams(), finite: Array.from(await y.data()).every((v) => Number.isFinite(v as number)) };
    tf.dispose([x, y]);
    m.dispose();
    return out;
  });
  expect(r.shape).toEqual([1, 10]);
  expect(r.params).toBe(prunedParams);
  expect(r.finite).toBe(true);

  // After another reload the ended run is offered for opening: its best model comes back for export.
  await page.reload();
  await waitForModel(page);
  await expect(panel.getByTestId('ft-offer')).toHaveCount(0);
  await panel.getByTestId('ft-open-saved').click();
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(panel.getByTestId('ft-epoch')).toHaveCount(3);
  await expect(panel.getByTestId('ft-download')).toBeVisible();
  expect(errors).toEqual([]);
});
