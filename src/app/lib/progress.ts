/**
 * Byte counting for the load progress bar: wraps ModelFiles (drops, pickers) and fetch (URLs)
 * so the UI can show "bytes read / total" while the loader does its work.
 */
import type { ModelFile } from '../../core/model/files';

export interface ByteCounter {
  /** Bytes read so far, over all files. */
  read: number;
  /** Bytes expected; grows as servers announce Content-Length. 0 when unknown. */
  total: number;
  /** Name of the file being read. */
  current: string;
}

type Listener = (c: ByteCounter) => void;

export class ByteProgress {
  readonly counter: ByteCounter = { read: 0, total: 0, current: '' };
  private readonly seen = new Set<string>();
  constructor(private readonly listener: Listener) {}

  private emit(): void {
    this.listener({ ...this.counter });
  }

  /** Wraps dropped/picked files: their sizes are known up front; bytes count when each read completes. */
  wrapFiles(files: ModelFile[]): ModelFile[] {
    this.counter.total = files.reduce((s, f) => s + f.size, 0);
    this.emit();
    return files.map((f) => ({
      path: f.path,
      size: f.size,
      read: async () => {
        this.counter.current = f.path;
        this.emit();
        const buf = await f.read();
        this.counter.read += buf.byteLength;
        this.emit();
        return buf;
      },
    }));
  }

  /** A fetch that streams the body and counts bytes as they arrive. */
  readonly fetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    this.counter.current = url;
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > 0 && !this.seen.has(url)) {
      this.seen.add(url);
      this.counter.total += length;
    }
    this.emit();
    if (!res.ok || !res.body) return res;
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      this.counter.read += value.byteLength;
      this.emit();
    }
    const size = chunks.reduce((s, c) => s + c.byteLength, 0);
    const body = new Uint8Array(size);
    let o = 0;
    for (const c of chunks) {
      body.set(c, o);
      o += c.byteLength;
    }
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
