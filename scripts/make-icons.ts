/**
 * Draws the app's install icons (public/icon-192.png, public/icon-512.png) from the favicon's design
 * (three white bars, shorter and shorter: channels pruned away, on the theme blue), with a small
 * PNG encoder (node:zlib), so no image tool is needed. Full-bleed background and the bars inside
 * the central 60%, so the same files serve as maskable icons.
 *
 *   npx tsx scripts/make-icons.ts
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc(size * (size * 3 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b] = pixel(x, y);
      const o = y * (size * 3 + 1) + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const BLUE: [number, number, number] = [0x0f, 0x5c, 0x8c];
const WHITE: [number, number, number] = [255, 255, 255];
// The favicon's bars on its 32-unit grid, scaled into the central 60% of the icon.
const BARS = [
  { x: 6, y: 8, w: 4, h: 16 },
  { x: 14, y: 12, w: 4, h: 12 },
  { x: 22, y: 16, w: 4, h: 8 },
];
for (const size of [192, 512]) {
  const unit = (size * 0.6) / 32;
  const off = size * 0.2;
  const file = png(size, (x, y) => {
    const u = (x + 0.5 - off) / unit;
    const v = (y + 0.5 - off) / unit;
    return BARS.some((b) => u >= b.x && u < b.x + b.w && v >= b.y && v < b.y + b.h) ? WHITE : BLUE;
  });
  writeFileSync(`public/icon-${size}.png`, file);
  console.log(`public/icon-${size}.png ${file.length} bytes`);
}
