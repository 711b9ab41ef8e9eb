import { expect, type Locator, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Waits until a model is shown and its warm-up prediction finished (ok or error). */
export async function waitForModel(page: Page, state: 'ok' | 'error' = 'ok', timeout = 90_000): Promise<void> {
  await expect(page.getByTestId('summary')).toBeVisible({ timeout });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-state', state, { timeout });
}

/** Chooses files through the "Choose files" input, as a user picking them would. */
export async function pickFiles(page: Page, files: string[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(files);
}

/**
 * Drops files on the page with a real `drop` event carrying a DataTransfer, so the page-wide
 * drop handler (not only the file input) is exercised.
 */
export async function dropFiles(page: Page, files: string[]): Promise<void> {
  const payload = files.map((f) => ({ name: basename(f), b64: readFileSync(f).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bin = Uint8Array.from(atob(it.b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bin], it.name));
    }
    return dt;
  }, payload);
  const zone = page.getByTestId('dropzone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

/** The layer table's rows, as {layer, type, shape, params, macs title}. */
export async function layerRows(page: Page): Promise<{ layer: string; type: string; shape: string; macs: string }[]> {
  return page.getByTestId('layer-table').locator('tbody tr').evaluateAll((rows) =>
    rows.map((r) => {
      const c = r.querySelectorAll('td');
      return {
        layer: c[1]?.textContent?.trim() ?? '',
        type: c[2]?.textContent?.trim() ?? '',
        shape: c[3]?.textContent?.trim() ?? '',
        macs: c[5]?.getAttribute('title') ?? '',
      };
    }),
  );
}

/** Collects page errors so a journey can assert none happened. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

/**
 * Goes to a step of the guided flow (model, data, compress, recover, export) with the step bar.
 * On a phone one step shows at a time; on a wide screen every step is on the page and this scrolls.
 */
export async function goToStep(page: Page, step: 'model' | 'data' | 'compress' | 'recover' | 'export'): Promise<void> {
  await page.getByTestId(`step-${step}`).click();
  await expect(page.getByTestId(`step-${step}`)).toHaveAttribute('aria-current', 'step');
}

/** Sets a range input as a user dragging it would: value, then `input` and `change`. */
export async function setRange(slider: Locator, value: number): Promise<void> {
  await slider.evaluate((el, v) => {
    const input = el as HTMLInputElement;
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, value);
}
