/** What a bundled model's card (models/<name>/README.md) says about its accuracy. */

export type DemoSplit = 'val' | 'test';
/** The demo splits the data panel offers (train is for training). */
export const DEMO_SPLITS: readonly DemoSplit[] = ['test', 'val'];

/** Top-1 accuracy (a fraction) the card states per demo split. */
export type CardAccuracy = Partial<Record<DemoSplit, number>>;

/** Reads lines like "Accuracy on `demo:test` (2000 images): top-1 86.10%, top-5 99.75%." */
export function parseCardAccuracy(markdown: string): CardAccuracy {
  const out: CardAccuracy = {};
  for (const split of DEMO_SPLITS) {
    const m = new RegExp('`demo:' + split + '`[^\\n]*?top-1 (\\d+(?:\\.\\d+)?)%').exec(markdown);
    if (m) out[split] = Number(m[1]) / 100;
  }
  return out;
}
