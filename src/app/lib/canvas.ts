/**
 * Small helpers for the search charts drawn on a canvas: sharp on high-density screens, colours
 * from the page's CSS variables (light and dark themes), and at most one redraw per frame.
 */
import { nearest, ticks } from './search-math';

/** Sizes the canvas for its CSS box and the device pixel ratio; returns a context in CSS pixels, cleared. */
export function prepareCanvas(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

/** The chart colours: CSS custom properties of the page's theme. */
export interface ChartColors {
  accent: string;
  muted: string;
  border: string;
  surface2: string;
  text: string;
  warn: string;
  ok: string;
}

let colorCache: ChartColors | null = null;
let watching = false;

/**
 * The theme's colours, read once (getComputedStyle forces a style recalculation, which costs a
 * phone more than drawing a chart) and read again when the colour scheme changes.
 */
export function chartColors(el: Element): ChartColors {
  if (!watching && typeof matchMedia === 'function') {
    watching = true;
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => (colorCache = null));
  }
  if (!colorCache) {
    const style = getComputedStyle(el);
    const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
    colorCache = {
      accent: v('--accent', '#0f5c8c'),
      muted: v('--muted', '#5b6673'),
      border: v('--border', '#d8dee6'),
      surface2: v('--surface-2', '#eef2f6'),
      text: v('--text', '#17202a'),
      warn: v('--warn', '#8a5a00'),
      ok: v('--ok', '#17703f'),
    };
  }
  return colorCache;
}

/** Calls `draw` once on the next animation frame however often it is scheduled before then. */
export function frameScheduler(draw: () => void): { schedule(): void; cancel(): void } {
  let id = 0;
  return {
    schedule() {
      if (id) return;
      id = requestAnimationFrame(() => {
        id = 0;
        draw();
      });
    },
    cancel() {
      if (id) cancelAnimationFrame(id);
      id = 0;
    },
  };
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** Space between the canvas's edges and the plot, in CSS pixels. */
export interface Margins {
  l: number;
  r: number;
  t: number;
  b: number;
}

/**
 * Horizontal grid lines labelled at the left margin, and labels under the x axis (about one
 * per 70 px, so they never collide on a phone). A label of '' is not drawn.
 */
export function drawAxes(
  ctx: CanvasRenderingContext2D,
  o: {
    width: number;
    height: number;
    m: Margins;
    colors: Pick<ChartColors, 'border' | 'muted'>;
    x: { range: readonly [number, number]; at: (v: number) => number; label: (v: number) => string };
    y: { range: readonly [number, number]; at: (v: number) => number; label: (v: number) => string };
  },
): void {
  const { width, height, m, x, y } = o;
  ctx.strokeStyle = o.colors.border;
  ctx.lineWidth = 1;
  ctx.fillStyle = o.colors.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of ticks(y.range[0], y.range[1], 4)) {
    const py = Math.round(y.at(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(m.l, py);
    ctx.lineTo(width - m.r, py);
    ctx.stroke();
    ctx.fillText(y.label(v), m.l - 4, py);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const v of ticks(x.range[0], x.range[1], Math.max(2, Math.floor((width - m.l) / 70)))) {
    const text = x.label(v);
    if (text) ctx.fillText(text, x.at(v), height - m.b + 5);
  }
}

/** The uniform baseline's marker: a filled diamond of half-diagonal `r` around (x, y). */
export function fillDiamond(ctx: CanvasRenderingContext2D, x: number, y: number, r = 6): void {
  ctx.beginPath();
  ctx.moveTo(x, y - r);
  ctx.lineTo(x + r, y);
  ctx.lineTo(x, y + r);
  ctx.lineTo(x - r, y);
  ctx.closePath();
  ctx.fill();
}

/** A drawn point that a click can pick, in CSS pixels of the canvas. */
export interface Hit<T> {
  x: number;
  y: number;
  pick: T;
}

/** Hands `onpick` the drawn point nearest the click within a fingertip (14 px), if there is one. */
export function pickAt<T>(hits: readonly Hit<T>[], e: MouseEvent & { currentTarget: HTMLCanvasElement }, onpick: (pick: T) => void): void {
  const rect = e.currentTarget.getBoundingClientRect();
  const i = nearest(hits, e.clientX - rect.left, e.clientY - rect.top, 14);
  if (i >= 0) onpick(hits[i].pick);
}
