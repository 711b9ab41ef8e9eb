/**
 * Small helpers for the search charts drawn on a canvas: sharp on high-density screens, colours
 * from the page's CSS variables (light and dark themes), and at most one redraw per frame.
 */

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
