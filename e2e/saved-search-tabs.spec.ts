/**
 * Issue 13, item 7: two tabs, one saved search, and a full storage quota.
 *  - A search running in one tab holds its Web Lock: a second tab of the same browser is not offered
 *    it, lists it as "open in another tab" and cannot resume or delete it; once the first tab stops
 *    it, the second resumes it from every episode the first saved.
 *  - With the site's storage quota made small (DevTools' quota override), starting a search is
 *    refused with what to delete (the saved search, with its size), and the search saved before is
 *    intact after a reload.
 */
import { test, expect, type Page } from '@playwright/test';
import { waitForModel, collectErrors } from './helpers';

async function startSearch(page: Page, episodes: number): Promise<void> {
  const panel = page.getByTestId('search-panel');
  await panel.getByTestId('search-episodes').fill(String(episodes));
  await panel.getByText('More settings').click();
  await panel.getByTestId('search-images').fill('50');
  await panel.getByTestId('search-start').click();
}

const count = async (page: Page) => Number((await page.getByTestId('search-count').textContent())?.match(/episode (\d+)/)?.[1] ?? NaN);

test('a search running in one tab cannot be resumed in another until the first stops it', async ({ context }) => {
  test.setTimeout(240_000);
  const a = await context.newPage();
  const errorsA = collectErrors(a);
  await a.goto('/');
  await waitForModel(a);
  await startSearch(a, 300);
  await expect.poll(() => count(a), { timeout: 90_000 }).toBeGreaterThanOrEqual(2);

  const b = await context.newPage();
  const errorsB = collectErrors(b);
  await b.goto('/');
  await waitForModel(b);
  const item = b.getByTestId('past-search');
  await expect(item).toHaveCount(1);
  // Not offered for resuming, and marked as open elsewhere, with Resume and Delete off.
  await expect(item).toHaveAttribute('data-elsewhere', 'true');
  await expect(item.getByTestId('past-elsewhere')).toHaveText('open in another tab');
  await expect(item.getByTestId('past-resume')).toBeDisabled();
  await expect(item.getByTestId('past-delete')).toBeDisabled();
  await expect(b.getByTestId('search-resume-offer')).toHaveCount(0);
  // The lock is the worker's, seen by the other tab through the Web Locks API itself.
  expect(await b.evaluate(async () => (await navigator.locks.query()).held?.map((l) => l.name))).toEqual([expect.stringMatching(/^amc-search:/)]);

  // Tab A stops: the lock goes, tab B resumes from every episode A saved.
  await a.getByTestId('search-stop').click();
  await expect(a.locator('[data-testid=past-search][data-state=stopped]')).toHaveCount(1);
  const savedByA = await count(a);
  await expect(item).toHaveAttribute('data-elsewhere', 'false', { timeout: 10_000 });
  await expect(item.getByTestId('past-resume')).toBeEnabled();
  await item.getByTestId('past-resume').click();
  await expect.poll(() => count(b), { timeout: 90_000 }).toBeGreaterThan(savedByA);
  await expect(b.getByTestId('search-error')).toHaveCount(0);

  // Now tab A is the other tab: its list says so, and it cannot resume the search.
  await a.reload();
  await waitForModel(a);
  const itemA = a.getByTestId('past-search');
  await expect(itemA).toHaveAttribute('data-elsewhere', 'true');
  await expect(itemA.getByTestId('past-resume')).toBeDisabled();
  await expect(a.getByTestId('search-resume-offer')).toHaveCount(0);

  await b.getByTestId('search-stop').click();
  await expect(b.locator('[data-testid=past-search][data-state=stopped]')).toHaveCount(1);
  const episodesB = await count(b);
  await b.getByTestId('past-delete').click();
  await expect(b.getByTestId('past-search')).toHaveCount(0);
  expect(episodesB).toBeGreaterThan(savedByA);
  expect(errorsA).toEqual([]);
  expect(errorsB).toEqual([]);
});

test('a full storage quota is reported with what to delete, and what was saved before the refused write is intact', async ({ page, context }) => {
  test.setTimeout(240_000);
  const errors = collectErrors(page);
  // Room for the start of a search (its model, ~0.9 MB) and about one episode's progress (the
  // agent's weights, Adam moments and replay buffer, ~3 MB a write), not for every episode.
  // Chromium reads the quota when the site's storage is first written in a session, so it is set
  // before the page opens.
  const cdp = await context.newCDPSession(page);
  const origin = new URL(test.info().project.use.baseURL!).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 5_500_000 });
  await page.goto('/');
  await waitForModel(page);
  await startSearch(page, 3);
  const panel = page.getByTestId('search-panel');
  const notice = panel.getByTestId('search-notice');
  await expect(notice).toContainText('storage for this site is full', { timeout: 90_000 });
  await expect(notice).toContainText('everything saved before is intact');
  // What to delete: the saved searches, with their sizes.
  await expect(notice).toContainText(/saved search "[^"]+" \(\d of 3 episodes\), [\d.]+ (KB|MB)/);
  const saved = Number((await notice.textContent())!.match(/\((\d) of 3 episodes\)/)![1]);
  // The search goes on in the page.
  await expect(panel.getByTestId('search-count')).toHaveText('episode 3 of 3', { timeout: 90_000 });
  expect(saved).toBeLessThan(3);

  // After a reload the search is as it was saved before the refused write (progress and summary
  // are written together or not at all), and with room again it resumes from there and finishes.
  await page.reload();
  await waitForModel(page);
  const item = panel.getByTestId('past-search');
  await expect(item).toHaveCount(1);
  await expect(item.getByTestId('past-episodes')).toHaveText(`${saved} of 3 episodes`);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await page.reload();
  await waitForModel(page);
  await item.getByTestId('past-resume').click();
  await expect(panel.getByTestId('search-count')).toHaveText('episode 3 of 3', { timeout: 90_000 });
  await expect(panel.locator('[data-testid=past-search][data-state=done]')).toHaveCount(1, { timeout: 30_000 });
  await expect(panel.getByTestId('search-error')).toHaveCount(0);
  expect(errors).toEqual([]);
});
