/**
 * The Prune panel's evaluator: a policy chosen by hand can be refitted or have its BatchNorm
 * statistics recomputed before it is compared and exported, on images of the model's own kind
 * (demo:train for a bundled demo model); a model of the user's without images of its own is told
 * to prepare some instead of being calibrated on images unlike its data.
 */
import { test, expect, type Download } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForModel, collectErrors, pickFiles, setRange } from './helpers';
import { fixtureDir, writeSequentialCnn } from './fixtures';
import { generateDataset } from '../src/core/data/procedural';
import { pngBytes } from '../src/core/data/node-images';

test('a demo model pruned with BatchNorm statistics recomputed on demo:train: report.json says so and carries new statistics', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/?demo=mobilenet-like');
  await waitForModel(page);
  await page.getByTestId('prune-evaluator').selectOption('bn');
  await expect(page.getByTestId('prune-evaluator-hint')).toContainText('BatchNorm statistics recomputed on 256 demo:train images');
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByTestId('download-all').click();
  await expect.poll(() => downloads.length).toBe(3);
  const dir = fixtureDir('prune-evaluator');
  const report = downloads.find((d) => d.suggestedFilename() === 'mobilenet-like-pruned.report.json')!;
  await report.saveAs(join(dir, 'report.json'));
  const r = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  expect(r.evaluator).toBe('bn');
  expect(r.evaluated).toBe('BatchNorm statistics recomputed on 256 demo:train images');
  expect(r.batchNorm.layers).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test("a model of the user's without images is not calibrated on the demo's: the panel asks for images", async ({ page }) => {
  const m = await writeSequentialCnn(fixtureDir('prune-evaluator-user'), { size: 16, channels: 3, filters: 8, classes: 10 });
  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, m.files);
  await waitForModel(page);
  await page.getByTestId('prune-evaluator').selectOption('refit');
  await expect(page.getByTestId('prune-evaluator-hint')).toContainText('Prepare some of your own images in the Data panel');
  await expect(page.getByTestId('prune-button')).toBeDisabled();
  await page.getByTestId('prune-evaluator').selectOption('slice');
  await expect(page.getByTestId('prune-button')).toBeEnabled();
});

test("a model of the user's with its own images prepared: BatchNorm statistics are recomputed on those images", async ({ page }) => {
  const errors = collectErrors(page);
  const m = await writeSequentialCnn(fixtureDir('prune-evaluator-own'), { size: 16, channels: 3, filters: 8, classes: 10 });
  const dir = fixtureDir('prune-evaluator-own-images');
  const ds = generateDataset('val', { count: 20 });
  const images = Array.from({ length: 20 }, (_, i) => {
    const f = join(dir, `img-${i}.png`);
    writeFileSync(f, pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    return f;
  });
  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, m.files);
  await waitForModel(page);
  await page.getByTestId('data-file-input').setInputFiles(images);
  await expect(page.getByTestId('data-summary')).toHaveAttribute('data-n', '20', { timeout: 60_000 });
  await page.getByTestId('prune-evaluator').selectOption('bn');
  await expect(page.getByTestId('prune-evaluator-hint')).toContainText('BatchNorm statistics recomputed on 20 of your images');
  await setRange(page.getByTestId('ratio-slider'), 0.5);
  await page.getByTestId('prune-button').click();
  await expect(page.getByTestId('prune-result')).toBeVisible({ timeout: 60_000 });
  expect(errors).toEqual([]);
});
