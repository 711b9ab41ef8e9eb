/**
 * The five-minute lesson: a teacher's link opens the demo model with the search settings it was
 * shared with, and each chart comes with the two or three sentences that explain it.
 */
import { test, expect } from '@playwright/test';
import { collectErrors, waitForModel } from './helpers';

test("a shared link opens the demo with its settings, and the group cards and the search's charts explain themselves", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/?demo=plain-cnn&resource=macs&target=0.4&episodes=2&seed=5&evaluator=bn');
  await waitForModel(page);
  await expect(page.getByTestId('lesson-groups')).toContainText('residual connections');
  const panel = page.getByTestId('search-panel');
  await expect(panel.getByTestId('search-target')).toHaveValue('0.4');
  await expect(panel.getByTestId('search-episodes')).toHaveValue('2');
  await expect(panel.getByTestId('search-seed')).toHaveValue('5');
  await panel.getByText('More settings').click();
  await expect(panel.getByTestId('search-evaluator')).toHaveValue('bn');

  await panel.getByTestId('search-share').click();
  const link = await panel.getByTestId('search-share-link').inputValue();
  expect(link).toContain('?demo=plain-cnn&');
  expect(new URL(link).searchParams.get('episodes')).toBe('2');

  await panel.getByTestId('search-start').click();
  await expect(panel.getByTestId('search-progress')).toHaveAttribute('data-phase', 'done', { timeout: 120_000 });
  for (const topic of ['reward', 'policy', 'pareto']) await expect(page.getByTestId(`lesson-${topic}`)).toBeVisible();
  await expect(page.getByTestId('lesson-reward')).toContainText('warm-up');
  expect(errors).toEqual([]);
});
