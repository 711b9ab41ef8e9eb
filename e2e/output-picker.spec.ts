/**
 * A model that exposes every layer as an output (a visualisation export) has every channel group
 * frozen: the page says why and lets the user keep the outputs they use, after which it prunes.
 */
import { test, expect } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { everyLayerOutputNet, exportModel } from '../src/testing/fixtures';
import { fixtureDir } from './fixtures';
import { collectErrors, goToStep, pickFiles, waitForModel } from './helpers';

test('every layer as an output: the picker explains the frozen groups, and keeping the prediction frees them', async ({ page }) => {
  const errors = collectErrors(page);
  const dir = fixtureDir('every-output');
  const e = await exportModel(everyLayerOutputNet());
  writeFileSync(join(dir, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));

  await page.goto('/');
  await waitForModel(page);
  await pickFiles(page, [join(dir, 'model.json'), join(dir, 'weights.bin')]);
  await waitForModel(page);
  const picker = page.getByTestId('output-picker');
  await expect(picker).toBeVisible();
  await expect(picker).toContainText(/every channel group is frozen because it reaches one of the model's 6 outputs/);
  await expect(picker.getByTestId('output-choice')).toHaveCount(6);
  await expect(page.getByTestId('keep-outputs')).toHaveText('Keep 1 output');
  await goToStep(page, 'compress');
  await expect(page.getByTestId('prune-none')).toBeVisible();

  await goToStep(page, 'model');
  await page.getByTestId('keep-outputs').click();
  await expect(picker).toBeHidden();
  await goToStep(page, 'compress');
  await expect(page.getByTestId('prune-none')).toBeHidden();
  await expect(page.getByTestId('group-slider').first()).toBeAttached();
  expect(errors).toEqual([]);
});
