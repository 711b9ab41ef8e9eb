/**
 * tfjs's WebGPU backend keeps every released buffer in a pool keyed by size and never frees it.
 * A search builds a model of new shapes every episode, so the pool fills with buffers of sizes
 * that never come back: over a quick 30-episode search on SwiftShader it grew to ten times what
 * the tensors held. Once the free part passes a limit, the pool is emptied (the next episode
 * allocates what it needs again). The backend has no public call for this; the fields read here
 * are those of tfjs-backend-webgpu 4.x's BufferManager, and anything else is left alone.
 */
import * as tf from '@tensorflow/tfjs';

/** Free pooled bytes allowed before the pool is emptied. */
export const GPU_POOL_LIMIT = 32 * 2 ** 20;

interface PooledBuffer {
  size: number;
  destroy(): void;
}

interface BufferPool {
  freeBuffers: Map<string, PooledBuffer[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
  numBytesUsed: number;
}

function poolOf(backend: unknown): BufferPool | null {
  const pool = (backend as { bufferManager?: Partial<BufferPool> } | null)?.bufferManager;
  return pool && pool.freeBuffers instanceof Map && typeof pool.numBytesAllocated === 'number' && typeof pool.numBytesUsed === 'number' ? (pool as BufferPool) : null;
}

/** Empties the free-buffer pool of `backend` (default: the current one) when it holds over `limit` bytes; returns the bytes freed. */
export function trimGpuPool(backend: unknown = tf.getBackend() === 'webgpu' ? tf.backend() : null, limit = GPU_POOL_LIMIT): number {
  const pool = poolOf(backend);
  if (!pool || pool.numBytesAllocated - pool.numBytesUsed <= limit) return 0;
  let freed = 0;
  // Keys stay (with empty lists): the manager ignores releases once its map is empty.
  for (const list of pool.freeBuffers.values()) {
    for (const b of list.splice(0)) {
      b.destroy();
      freed += b.size;
    }
  }
  pool.numBytesAllocated -= freed;
  pool.numFreeBuffers = 0;
  return freed;
}
