import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32, decodePng, encodePng, ImageDecodeError, sniffFormat } from './png';
import { mulberry32 } from '../random';

const inflate = (d: Uint8Array) => new Uint8Array(inflateSync(d));
const deflate = (d: Uint8Array) => new Uint8Array(deflateSync(d));

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

describe('PNG codec', () => {
  test('the CRC is the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new TextEncoder().encode('IEND'))).toBe(0xae426082);
  });

  test.each([1, 2, 3, 4] as const)('%i-channel 8-bit images round-trip with every row filter', (channels) => {
    const w = 7;
    const h = 5;
    const px = randomPixels(w * h * channels, channels);
    for (const filter of [0, 1, 2, 3, 4] as const) {
      const png = encodePng(px, w, h, channels, deflate, { filter });
      const d = decodePng(png, inflate);
      expect([d.width, d.height]).toEqual([w, h]);
      expect(Array.from(d.rgba)).toEqual(toRgba(px, channels));
    }
  });

  test('palette images (with and without transparency) decode to their colours', () => {
    const w = 6;
    const h = 4;
    const colours = [
      [255, 0, 0, 255],
      [0, 128, 255, 255],
      [10, 20, 30, 0],
    ];
    const rgba = new Uint8Array(w * h * 4);
    for (let p = 0; p < w * h; p++) rgba.set(colours[(p * 7) % 3], p * 4);
    const d = decodePng(encodePng(rgba, w, h, 4, deflate, { palette: true, filter: 1 }), inflate);
    expect(Array.from(d.rgba)).toEqual(Array.from(rgba));
    const rgb = new Uint8Array(w * h * 3);
    for (let p = 0; p < w * h; p++) rgb.set(colours[p % 2].slice(0, 3), p * 3);
    const d3 = decodePng(encodePng(rgb, w, h, 3, deflate, { palette: true }), inflate);
    expect(Array.from(d3.rgba)).toEqual(toRgba(rgb, 3));
  });

  test.each([1, 2, 4] as const)('%i-bit grayscale expands to the full 0..255 range', (depth) => {
    const w = 9;
    const h = 3;
    const levels = 1 << depth;
    const px = Uint8Array.from({ length: w * h }, (_, i) => Math.round(((i % levels) * 255) / (levels - 1)));
    const d = decodePng(encodePng(px, w, h, 1, deflate, { grayDepth: depth }), inflate);
    expect(Array.from(d.rgba)).toEqual(toRgba(px, 1));
  });

  test('2-bit palette images (packed indices) decode', () => {
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
    const d = decodePng(png, inflate);
    const pal = [[1, 2, 3], [40, 50, 60], [200, 210, 220]];
    expect(Array.from(d.rgba)).toEqual(idx.flatMap((i) => [...pal[i], 255]));
  });

  test('refuses interlaced, 16-bit, JPEG and non-image files with a reason and what to do', () => {
    const expectRefusal = (bytes: Uint8Array, problem: RegExp, fix: RegExp) => {
      let err: unknown;
      try {
        decodePng(bytes, inflate);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as ImageDecodeError).problem).toMatch(problem);
      expect((err as ImageDecodeError).fix).toMatch(fix);
      expect((err as Error).message).not.toContain('\n');
    };
    const toPng = /Convert it to an 8-bit PNG, or evaluate it in the app/;
    expectRefusal(handMade({ w: 1, h: 1, depth: 8, color: 0, interlace: 1 }, [0, 0]), /interlaced/, toPng);
    expectRefusal(handMade({ w: 1, h: 1, depth: 16, color: 0 }, [0, 0, 0]), /16-bit/, toPng);
    expectRefusal(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70]), /is a JPEG image; the command line reads PNG only/, toPng);
    expect(sniffFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expectRefusal(new TextEncoder().encode('hello, not an image'), /not a PNG image/, toPng);
  });

  test('damaged files are refused: bad checksum, cut short, broken compressed data', () => {
    const png = encodePng(randomPixels(4 * 4 * 3, 9), 4, 4, 3, deflate);
    const flipped = png.slice();
    flipped[44] ^= 0xff; // inside IDAT's data
    expect(() => decodePng(flipped, inflate)).toThrow(/checksum of its IDAT chunk is wrong/);
    expect(() => decodePng(png.slice(0, png.length - 20), inflate)).toThrow(/cut short|no image data/);
    const garbage = handMade({ w: 2, h: 2, depth: 8, color: 2 }, []);
    expect(() => decodePng(garbage, inflate)).toThrow(/less image data/);
  });
});
