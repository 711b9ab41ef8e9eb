/**
 * Downloads from the page: the one place the app turns a Blob into a file on the user's disk.
 * (The engine makes the Blobs, core/export/browser.ts; clicking a link is the page's business.)
 */

/** Starts a download of `blob` as `name` from the page (an <a download> clicked once). */
export function downloadBlob(blob: Blob, name: string, doc: Document = document): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.style.display = 'none';
  doc.body.appendChild(a);
  a.click();
  a.remove();
  // The download has started from the click; the URL is not needed after that.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Downloads `value` as pretty-printed JSON (report.json, the search log). */
export function downloadJson(value: unknown, name: string): void {
  downloadBlob(new Blob([JSON.stringify(value, null, 2) + '\n'], { type: 'application/json' }), name);
}
