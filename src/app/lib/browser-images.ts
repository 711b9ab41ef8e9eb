/**
 * The browser's image decoder for data sets: createImageBitmap reads any format the browser
 * knows (PNG, JPEG, GIF, WebP, BMP), a canvas crops the centre to the model's aspect ratio and
 * scales it to the input size (high-quality smoothing; a same-size image is copied exactly), and
 * the pixels become RGB or luma bytes as src/core/data/images.ts describes.
 */
import type { ImageDecoder } from '../../core/data/decode';
import { centreCrop, lumaOf } from '../../core/data/images';
import { ImageDecodeError } from '../../core/data/png';

type Ctx = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

let cached: { w: number; h: number; ctx: Ctx } | null = null;

function context(w: number, h: number): Ctx {
  if (cached && cached.w === w && cached.h === h) return cached.ctx;
  let ctx: Ctx | null;
  if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(w, h).getContext('2d', { willReadFrequently: true });
  else {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    ctx = c.getContext('2d', { willReadFrequently: true });
  }
  if (!ctx) throw new Error('this browser gives no 2D canvas to read images with');
  cached = { w, h, ctx };
  return ctx;
}

const MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', bmp: 'image/bmp' };

export const decodeBrowserImage: ImageDecoder = async (file, spec) => {
  const ext = file.path.slice(file.path.lastIndexOf('.') + 1).toLowerCase();
  const blob = new Blob([await file.read()], { type: MIME[ext] ?? '' });
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new ImageDecodeError('is not an image this browser can read (damaged, empty, or in an unsupported format).', 'Re-save it as a PNG or JPEG, or remove it from the folder.');
  }
  try {
    const { width: w, height: h, channels } = spec;
    const { sx, sy, sw, sh } = centreCrop(bitmap.width, bitmap.height, w, h);
    const ctx = context(w, h);
    ctx.clearRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, sx, sy, sw, sh, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    const out = new Uint8Array(w * h * channels);
    for (let p = 0; p < w * h; p++) {
      const transparent = px[p * 4 + 3] === 0;
      const r = transparent ? 0 : px[p * 4];
      const g = transparent ? 0 : px[p * 4 + 1];
      const b = transparent ? 0 : px[p * 4 + 2];
      if (channels === 1) out[p] = lumaOf(r, g, b);
      else {
        out[p * 3] = r;
        out[p * 3 + 1] = g;
        out[p * 3 + 2] = b;
      }
    }
    return out;
  } finally {
    bitmap.close();
  }
};

/** Lets the page repaint between steps of long main-thread work. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
