/**
 * Photos from the phone's camera (`<input capture>`): each one taken joins the Data panel's set of
 * unlabeled images, even though phones name every capture image.jpg.
 */
import { test, expect } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../src/core/data/procedural';
import { pngBytes } from '../src/core/data/node-images';
import { fixtureDir } from './fixtures';
import { collectErrors, goToStep, waitForModel } from './helpers';

test('each photo taken joins the set of unlabeled images', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = fixtureDir('camera');
  const ds = generateDataset('val', { count: 3 });
  const shots = [0, 1, 2].map((i) => {
    const f = join(dir, `shot-${i}.png`);
    writeFileSync(f, pngBytes(ds.images.subarray(i * 3072, (i + 1) * 3072), 32, 32, 3));
    return f;
  });
  await page.goto('/');
  await waitForModel(page);
  await goToStep(page, 'data');
  const camera = page.getByTestId('data-camera-input');
  await expect(camera).toHaveAttribute('capture', 'environment');
  const summary = page.getByTestId('data-summary');
  for (const [i, shot] of shots.entries()) {
    await camera.setInputFiles({ name: 'image.png', mimeType: 'image/png', buffer: readFileSync(shot) });
    await expect(summary).toHaveAttribute('data-n', String(i + 1), { timeout: 60_000 });
    await expect(summary).toHaveAttribute('data-kind', 'unlabeled');
  }
  await expect(page.getByTestId('data-take-photo')).toContainText('3 so far');
  expect(errors).toEqual([]);
});
