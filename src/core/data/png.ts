/**
 * A small PNG encoder for fixtures and tests, the sniffing of a file's format, and the error a
 * decoder gives (browsers decode images natively; the CLI decodes with sharp, node-images.ts).
 * zlib is injected (node:zlib in Node), so this file has no platform dependency.
 */

export type Deflate = (data: Uint8Array) => Uint8Array;

export interface DecodedImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, RGBA, row-major. */
  rgba: Uint8Array;
}

const AGAIN = 'Save or copy the image again.';

/** A file the decoder cannot read: what is wrong, and what to do. */
export class ImageDecodeError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string = AGAIN,
  ) {
    super(`${problem} ${fix}`);
    this.name = 'ImageDecodeError';
  }
}


const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** What a file's first bytes say it is, for refusals ("a JPEG image"). */
export function sniffFormat(b: Uint8Array): string | undefined {
  if (b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v)) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export interface EncodeOptions {
  /** Row filter used for every row (0 none .. 4 Paeth; default 0). */
  filter?: 0 | 1 | 2 | 3 | 4;
  /** Bit depth for grayscale (1, 2, 4 or 8; default 8). Values are taken from the top bits. */
  grayDepth?: 1 | 2 | 4 | 8;
  /** Write a palette PNG (colours must be at most 256; channels must be 3 or 4). */
  palette?: boolean;
}

/**
 * Encodes 8-bit pixels (channels: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA) as a PNG. Used to make
 * test folders and to export images; not tuned for size.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4, deflate: Deflate, opts: EncodeOptions = {}): Uint8Array {
  if (pixels.length !== width * height * channels) throw new RangeError(`${pixels.length} bytes is not ${width}x${height}x${channels}.`);
  let colorType: number = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[channels];
  let depth = 8;
  let samples = channels as number;
  let data = pixels;
  let plte: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  if (opts.palette) {
    if (channels < 3) throw new RangeError('palette PNGs need RGB or RGBA pixels.');
    const index = new Map<number, number>();
    const colors: number[] = [];
    data = new Uint8Array(width * height);
    for (let p = 0; p < width * height; p++) {
      const r = pixels[p * channels];
      const g = pixels[p * channels + 1];
      const b = pixels[p * channels + 2];
      const a = channels === 4 ? pixels[p * channels + 3] : 255;
      const key = ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
      let k = index.get(key);
      if (k === undefined) {
        k = colors.length;
        if (k >= 256) throw new RangeError('more than 256 colours: cannot write a palette PNG.');
        index.set(key, k);
        colors.push(key);
      }
      data[p] = k;
    }
    plte = new Uint8Array(colors.length * 3);
    trns = new Uint8Array(colors.length);
    colors.forEach((c, k) => {
      plte![k * 3] = c >>> 24;
      plte![k * 3 + 1] = (c >>> 16) & 0xff;
      plte![k * 3 + 2] = (c >>> 8) & 0xff;
      trns![k] = c & 0xff;
    });
    if (trns.every((a) => a === 255)) trns = undefined;
    colorType = 3;
    samples = 1;
  } else if (channels === 1 && opts.grayDepth && opts.grayDepth < 8) {
    depth = opts.grayDepth;
    data = pixels.map((v) => v >> (8 - depth));
  }
  const stride = Math.ceil((width * samples * depth) / 8);
  const bpp = Math.max(1, (samples * depth) >> 3);
  const packed = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * samples; x++) {
      const v = data[y * width * samples + x];
      if (depth === 8) packed[y * stride + x] = v;
      else {
        const bit = x * depth;
        packed[y * stride + (bit >> 3)] |= v << (8 - depth - (bit & 7));
      }
    }
  }
  const filter = opts.filter ?? 0;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = filter;
    const row = packed.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? packed.subarray((y - 1) * stride, y * stride) : undefined;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? row[i - bpp] : 0;
      const b = up ? up[i] : 0;
      const c = up && i >= bpp ? up[i - bpp] : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw[y * (stride + 1) + 1 + i] = (row[i] - pred) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const parts = [new Uint8Array(SIGNATURE), chunk('IHDR', ihdr)];
  if (plte) parts.push(chunk('PLTE', plte));
  if (trns) parts.push(chunk('tRNS', trns));
  parts.push(chunk('IDAT', deflate(raw)), chunk('IEND', new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
