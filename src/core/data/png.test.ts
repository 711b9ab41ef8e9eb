import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { decodeImageBytes } from './node-images';
import { crc32, encodePng, ImageDecodeError, sniffFormat } from './png';
import { mulberry32 } from '../random';

const deflate = (d: Uint8Array) => new Uint8Array(deflateSync(d));
/** The encoder's output read back by the CLI's decoder (sharp), which must see the pixels written. */
const decodePng = (png: Uint8Array) => decodeImageBytes(png);

function randomPixels(n: number, seed: number, levels = 256): Uint8Array {
  const r = mulberry32(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * levels) * Math.floor(255 / (levels - 1 || 1)));
}

/** Expected RGBA of `pixels` with `channels` channels. */
function toRgba(pixels: Uint8Array, channels: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < pixels.length / channels; p++) {
    const v = Array.from(pixels.subarray(p * channels, (p + 1) * channels));
    if (channels === 1) out.push(v[0], v[0], v[0], 255);
    else if (channels === 2) out.push(v[0], v[0], v[0], v[1]);
    else if (channels === 3) out.push(v[0], v[1], v[2], 255);
    else out.push(...v);
  }
  return out;
}

/** A minimal PNG chunk with its CRC, for hand-made (broken or unusual) files. */
function chunk(type: string, data: number[]): number[] {
  const body = [...type].map((c) => c.charCodeAt(0)).concat(data);
  const crc = crc32(Uint8Array.from(body));
  const len = data.length;
  return [len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, ...body, crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255];
}

function handMade(ihdr: { w: number; h: number; depth: number; color: number; interlace?: number }, raw: number[]): Uint8Array {
  const be = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return Uint8Array.from([
    137, 80, 78, 71, 13, 10, 26, 10,
    ...chunk('IHDR', [...be(ihdr.w), ...be(ihdr.h), ihdr.depth, ihdr.color, 0, 0, ihdr.interlace ?? 0]),
    ...chunk('IDAT', Array.from(deflate(Uint8Array.from(raw)))),
    ...chunk('IEND', []),
  ]);
}

describe('PNG encoder, read back by the decoder', () => {
  test('the CRC is the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  test.each([1, 2, 3, 4] as const)('%i-channel 8-bit images round-trip with every row filter', async (channels) => {
    const w = 7;
    const h = 5;
    const px = randomPixels(w * h * channels, channels);
    for (const filter of [0, 1, 2, 3, 4] as const) {
      const png = encodePng(px, w, h, channels, deflate, { filter });
      const d = await decodePng(png);
      expect([d.width, d.height]).toEqual([w, h]);
      expect(Array.from(d.rgba)).toEqual(toRgba(px, channels));
    }
  });

  test('palette images (with and without transparency) decode to their colours', async () => {
    const w = 6;
    const h = 4;
    const colours = [
      [255, 0, 0, 255],
      [0, 128, 255, 255],
      [10, 20, 30, 0],
    ];
    const rgba = new Uint8Array(w * h * 4);
    for (let p = 0; p < w * h; p++) rgba.set(colours[(p * 7) % 3], p * 4);
    const d = await decodePng(encodePng(rgba, w, h, 4, deflate, { palette: true, filter: 1 }));
    expect(Array.from(d.rgba)).toEqual(Array.from(rgba));
    const rgb = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) rgb.set(colours[p % 2].slice(0, 3), p * 3);
    const d3 = await decodePng(encodePng(rgb, w, h, 3, deflate, { palette: true }));
    expect(Array.from(d3.rgba)).toEqual(toRgba(rgb, 3));
  });

  test.each([1, 2, 4] as const)('%i-bit grayscale expands to the full 0..255 range', async (depth) => {
    const w = 9;
    const h = 3;
    const levels = 1 << depth;
    const px = Uint8Array.from({ length: w * h }, (_, i) => Math.round(((i % levels) * 255) / (levels - 1)));
    const d = await decodePng(encodePng(px, w, h, 1, deflate, { grayDepth: depth }));
    expect(Array.from(d.rgba)).toEqual(toRgba(px, 1));
  });

  test('2-bit palette images (packed indices) decode', async () => {
    // 5x2, palette of 3 colours, 2 bits per pixel, rows padded to whole bytes.
    const idx = [0, 1, 2, 1, 0, 2, 2, 1, 0, 0];
    const row = (r: number) => {
      const v = idx.slice(r * 5, r * 5 + 5);
      return [0, (v[0] << 6) | (v[1] << 4) | (v[2] << 2) | v[3], v[4] << 6];
    };
    const be = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
    const png = Uint8Array.from([
      137, 80, 78, 71, 13, 10, 26, 10,
      ...chunk('IHDR', [...be(5), ...be(2), 2, 3, 0, 0, 0]),
      ...chunk('PLTE', [1, 2, 3, 40, 50, 60, 200, 210, 220]),
      ...chunk('IDAT', Array.from(deflate(Uint8Array.from([...row(0), ...row(1)])))),
      ...chunk('IEND', []),
    ]);
    const d = await decodePng(png);
    const pal = [[1, 2, 3], [40, 50, 60], [200, 210, 220]];
    expect(Array.from(d.rgba)).toEqual(idx.flatMap((i) => [...pal[i], 255]));
  });

  test('reads what users have: JPEG (EXIF orientation applied), WebP, interlaced and 16-bit PNG', async () => {
    const w = 6;
    const h = 4;
    const rgb = Buffer.from(randomPixels(w * h * 3, 3, 2));
    const jpeg = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    expect(sniffFormat(jpeg)).toBe('jpeg');
    // Orientation 6: shown rotated a quarter turn, so 4 wide and 6 high.
    expect([(await decodePng(jpeg)).width, (await decodePng(jpeg)).height]).toEqual([h, w]);
    const webp = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).webp({ lossless: true }).toBuffer();
    expect(Array.from((await decodePng(webp)).rgba)).toEqual(toRgba(rgb, 3));
    const interlaced = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png({ progressive: true }).toBuffer();
    expect(Array.from((await decodePng(interlaced)).rgba)).toEqual(toRgba(rgb, 3));
    const sixteen = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    expect((await decodePng(sixteen)).rgba.length).toBe(w * h * 4);
  });

  test('refuses damaged and non-image files with one line saying what the file is and what to do', async () => {
    const refusal = async (bytes: Uint8Array) => {
      const err = await decodePng(bytes).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as Error).message).not.toContain('\n');
      return err as ImageDecodeError;
    };
    const png = encodePng(randomPixels(4 * 4 * 3, 9), 4, 4, 3, deflate);
    expect((await refusal(png.slice(0, png.length - 20))).problem).toMatch(/is a PNG image that could not be decoded/);
    expect((await refusal(new TextEncoder().encode('hello, not an image'))).problem).toMatch(/is not an image this tool reads/);
    expect((await refusal(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]))).fix).toMatch(/Re-save it as a JPEG or PNG/);
  });
});
