/**
 * Which images train and which are held out, the order of every epoch, and the light augmentation
 * of a batch: all on raw image bytes (NHWC, as the data sets hold them) and all drawn from seeded
 * streams, so a seed gives the same run in Node, pages and workers, and an epoch can be replayed
 * from its number alone (a resumed fine-tune needs no saved random state).
 */
import { Rng } from '../random';
import type { AugmentConfig, FinetuneConfig } from './config';

export interface ImageLayout {
  height: number;
  width: number;
  channels: 1 | 3;
}

function shuffle(a: Int32Array, rng: Rng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** The held-out images and the training images, disjoint, fixed by the seed. */
export function splitHeldOut(n: number, c: FinetuneConfig): { heldOut: Int32Array; train: Int32Array } {
  const wanted = Math.round(n * c.heldOutFraction);
  const k = Math.min(Math.max(wanted, c.heldOutMin), c.heldOutMax, Math.floor(n / 2));
  const order = shuffle(Int32Array.from({ length: n }, (_, i) => i), new Rng(c.seed ^ 0x5eed));
  return { heldOut: order.slice(0, k).sort(), train: order.slice(k) };
}

/** Training order of `epoch` (0-based): a permutation of `train` that depends only on the seed and the epoch. */
export function epochOrder(train: Int32Array, seed: number, epoch: number): Int32Array {
  return shuffle(train.slice(), new Rng((seed * 1_000_003 + epoch * 7919 + 1) >>> 0));
}

/** Copies images `indices` of `images` into one contiguous batch. */
export function gatherImages(images: Uint8Array, indices: ArrayLike<number>, layout: ImageLayout): Uint8Array {
  const per = layout.height * layout.width * layout.channels;
  const out = new Uint8Array(indices.length * per);
  for (let k = 0; k < indices.length; k++) out.set(images.subarray(indices[k] * per, (indices[k] + 1) * per), k * per);
  return out;
}

/**
 * Shifts every image of `batch` by a random offset (edge pixels repeated) and mirrors it at random,
 * in place. The random stream is `rng`: the caller seeds it per epoch.
 */
export function augmentBatch(batch: Uint8Array, layout: ImageLayout, a: AugmentConfig, rng: Rng): void {
  const { height: h, width: w, channels: c } = layout;
  const maxShift = Math.floor(a.shift * Math.min(h, w));
  if (maxShift === 0 && !a.flip) return;
  const per = h * w * c;
  const src = new Uint8Array(per);
  for (let off = 0; off < batch.length; off += per) {
    const dy = maxShift ? Math.floor(rng.next() * (2 * maxShift + 1)) - maxShift : 0;
    const dx = maxShift ? Math.floor(rng.next() * (2 * maxShift + 1)) - maxShift : 0;
    const flip = a.flip && rng.next() < 0.5;
    src.set(batch.subarray(off, off + per));
    for (let y = 0; y < h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y - dy));
      for (let x = 0; x < w; x++) {
        const xx = flip ? w - 1 - x : x;
        const sx = Math.min(w - 1, Math.max(0, xx - dx));
        const from = (sy * w + sx) * c;
        const to = off + (y * w + x) * c;
        for (let k = 0; k < c; k++) batch[to + k] = src[from + k];
      }
    }
  }
}
