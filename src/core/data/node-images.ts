/**
 * Image data on the file system, for the CLI and tests (Node only): a folder walked into files, and
 * the decoder: sharp (libvips), the field's standard in Node, reads what users' photos are (JPEG,
 * PNG, WebP, GIF, TIFF, AVIF; EXIF orientation applied as browsers apply it). The PNG encoder
 * (png.ts) stays for writing fixtures.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { ModelError } from '../model/errors';
import type { ModelFile } from '../model/files';
import { decodePlan, type DecodedPlan, type DecodeOptions, type ImageDecoder } from './decode';
import { planImageFiles, type DataPlan, type PlanOptions } from './folders';
import { fitRgba, type InputSpec } from './images';
import { encodePng, ImageDecodeError, sniffFormat, type DecodedImage, type EncodeOptions } from './png';

const MAX_DEPTH = 8;

/** Every file under `dir` (depth-first, hidden folders skipped), with paths `dir/…` as typed. */
export function filesFromDir(dir: string): ModelFile[] {
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new ModelError(dir, 'does not exist.', 'Give a folder with one subfolder of images per class, or a folder of images (JPEG, PNG, WebP).');
  }
  if (!stat.isDirectory()) {
    throw new ModelError(dir, 'is not a folder.', 'Give a folder with one subfolder of images per class (labeled), or a folder of images (unlabeled).');
  }
  const out: ModelFile[] = [];
  const walk = (d: string, depth: number) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      const s = statSync(full);
      if (s.isDirectory()) {
        if (!name.startsWith('.') && depth < MAX_DEPTH) walk(full, depth + 1);
      } else if (s.isFile()) {
        out.push({
          path: full,
          size: s.size,
          read: async () => {
            const b = readFileSync(full);
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          },
        });
      }
    }
  };
  walk(dir, 0);
  return out;
}

const deflate = (d: Uint8Array) => new Uint8Array(deflateSync(d));

/** Any image file's bytes as 8-bit RGBA; refusals say what the file is and what to do. */
export async function decodeImageBytes(bytes: Uint8Array): Promise<DecodedImage> {
  let out;
  try {
    // rotate(): EXIF orientation, as a phone's JPEG is shown; sRGB + alpha: always 4 channels of 8 bits.
    out = await sharp(bytes, { failOn: 'error' }).rotate().toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    const format = sniffFormat(bytes);
    const what = format ? `is a ${format.toUpperCase()} image that could not be decoded (${String((e as Error).message).split('\n')[0]})` : 'is not an image this tool reads (JPEG, PNG, WebP, GIF, TIFF or AVIF)';
    throw new ImageDecodeError(`${what}.`, 'Re-save it as a JPEG or PNG, or remove it from the folder.');
  }
  const { data, info } = out;
  return { width: info.width, height: info.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** An image file -> the model's input (centre crop, antialiased bilinear resize, channels). */
export const decodeNodeImage: ImageDecoder = async (file, spec) => {
  const { width, height, rgba } = await decodeImageBytes(new Uint8Array(await file.read()));
  return fitRgba(rgba, width, height, spec);
};

/** Writes pixels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA channels) as PNG bytes. */
export function pngBytes(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4, opts?: EncodeOptions): Uint8Array {
  return encodePng(pixels, width, height, channels, deflate, opts);
}

/**
 * A folder of images (class subfolders, or loose images) at the model's input: the plan (classes,
 * counts, skipped files) and the decoded set. Refusals are ModelErrors naming the file or folder.
 */
export async function loadImageDir(
  dir: string,
  spec: InputSpec,
  opts: Omit<PlanOptions, 'root'> & DecodeOptions = {},
): Promise<DecodedPlan & { plan: DataPlan }> {
  const files = filesFromDir(dir);
  const root = files.length && files[0].path.startsWith(join(dir) + '/') ? join(dir) : '';
  const plan = await planImageFiles(files, { ...opts, root });
  return { plan, ...(await decodePlan(plan, spec, decodeNodeImage, opts)) };
}
