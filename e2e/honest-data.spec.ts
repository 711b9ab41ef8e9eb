/**
 * Issue 14, "honest data" and "names": the demo dataset's labels belong to the bundled demo models
 * (known by fingerprint, wherever they are loaded from) or to a model the user says was trained on
 * them; a 10-class model of one's own is never scored against them. It is named after its folder,
 * its labels.txt names its classes, and a reward set of 4 images is warned about with its reason.
 */
import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fixtureDir, writeSequentialCnn } from './fixtures';
import { collectErrors, waitForModel } from './helpers';
import { generateDataset } from '../src/core/data/procedural';
import { pngBytes } from '../src/core/data/node-images';

test.setTimeout(240_000);

const KHMER = ['០', '១', '២', '៣', '៤', '៥', '៦', '៧', '៨', '៩'];

test('a 10-class model that is not a demo model is never scored with the demo labels; a demo model still is', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = join(fixtureDir('honest'), 'khmer-digits');
  await writeSequentialCnn(dir, { size: 16, channels: 3, filters: 8, classes: 10 });
  writeFileSync(join(dir, 'labels.txt'), KHMER.map((c, i) => `${i} ${c}`).join('\n') + '\n');

  await page.goto('/');
  await waitForModel(page);
  const summary = page.getByTestId('data-summary');
  const search = page.getByTestId('search-panel');
  // The bundled demo model: demo:test carries its labels.
  await expect(summary).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await expect(page.getByTestId('data-own-images')).toHaveCount(0);

  // A 10-output model of one's own, dropped as a folder.
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.getByTestId('model-name')).toHaveText('khmer-digits');
  await waitForModel(page);
  await expect(page.getByTestId('model-classes')).toContainText('10 class names (from labels.txt): ០, ១, ២');
  await expect(summary).toHaveAttribute('data-kind', 'unlabeled', { timeout: 60_000 });
  await expect(page.getByTestId('label-source')).toContainText('not one of the bundled demo models');
  await expect(page.getByTestId('data-own-images')).toHaveAttribute('data-why', 'not a demo model');
  await expect(page.getByTestId('data-own-images')).toContainText('This model needs your own images');
  // No top-1 on the demo images: they only measure a pruned model against the original.
  await expect(page.getByTestId('class-counts')).toHaveCount(0);
  await expect(page.getByTestId('needs-prune')).toBeVisible();
  await expect(search.getByTestId('search-explain')).toContainText('demo:val images, agreement with the original model (it is not a bundled demo model');

  // The user says it was trained on the demo classes: then, and only then, the labels apply.
  await page.getByTestId('data-demo-optin').check();
  await expect(summary).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await expect(page.getByTestId('label-source')).toContainText('you said this model was trained');
  await expect(search.getByTestId('search-explain')).toContainText('demo:val images, top-1 accuracy');
  await page.getByTestId('data-demo-optin').uncheck();
  await expect(summary).toHaveAttribute('data-kind', 'unlabeled', { timeout: 60_000 });

  // Its own labeled images: folders named after labels.txt's classes, 4 images in all.
  const root = join(fixtureDir('honest-data'), 'digits');
  const ds = generateDataset('val', { count: 4 });
  for (let i = 0; i < 4; i++) {
    const sub = join(root, KHMER[i % 2]);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `${i}.png`), pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
  }
  await page.getByTestId('data-folder-input').setInputFiles(root);
  await expect(summary).toHaveAttribute('data-n', '4', { timeout: 60_000 });
  await expect(summary).toHaveAttribute('data-kind', 'labeled');
  await expect(page.getByTestId('label-source')).toContainText("class order from the model's labels.txt");
  await expect(page.locator('[data-testid=class-counts] li[data-class="១"] [data-testid=class-count]')).toHaveText('2');
  await expect(page.getByTestId('data-small-warning')).toContainText('steps of 25 points');
  // The search on them: 4 reward images, warned with the reason and what it would take.
  await search.getByText('More settings').click();
  await search.getByTestId('search-images').fill('4');
  await expect(search.getByTestId('search-explain')).toContainText('4 of your images (digits), top-1 accuracy');
  const warning = search.getByTestId('search-data-warning').first();
  await expect(warning).toContainText('Only 4 reward images: a score on them moves in steps of 25 points');
  await expect(warning).toContainText('about 400 images');

  // A bundled demo model dropped as files is still known by its fingerprint: its labels apply.
  await page.getByTestId('folder-input').setInputFiles(resolve('models/plain-cnn'));
  await expect(page.getByTestId('model-name')).toHaveText('plain-cnn');
  await waitForModel(page);
  await page.getByTestId('data-demo-test').click();
  await expect(summary).toHaveAttribute('data-kind', 'labeled', { timeout: 60_000 });
  await expect(page.getByTestId('label-source')).toContainText('a bundled demo model (plain-cnn)');
  await expect(page.getByTestId('data-own-images')).toHaveCount(0);
  await expect(search.getByTestId('search-explain')).toContainText('demo:val images, top-1 accuracy');
  expect(errors).toEqual([]);
});
