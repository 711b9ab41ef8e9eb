import { describe, expect, it } from 'vitest';
import { trimGpuPool } from './gpu-pool';

function fakePool(free: number[], used: number) {
  const destroyed: number[] = [];
  const buffer = (size: number) => ({ size, destroy: () => destroyed.push(size) });
  const freeBuffers = new Map([['a', free.slice(0, 1).map(buffer)], ['b', free.slice(1).map(buffer)]]);
  const total = free.reduce((a, b) => a + b, 0);
  return { destroyed, backend: { bufferManager: { freeBuffers, numFreeBuffers: free.length, numBytesAllocated: total + used, numBytesUsed: used } } };
}

describe('trimGpuPool', () => {
  it('empties the free pool once it passes the limit, keeping its keys and the bytes in use', () => {
    const { backend, destroyed } = fakePool([100, 200, 300], 50);
    expect(trimGpuPool(backend, 1000)).toBe(0);
    expect(destroyed).toEqual([]);
    expect(trimGpuPool(backend, 500)).toBe(600);
    expect(destroyed.sort()).toEqual([100, 200, 300]);
    const m = backend.bufferManager;
    expect(m.numBytesAllocated).toBe(50);
    expect(m.numFreeBuffers).toBe(0);
    expect([...m.freeBuffers.keys()]).toEqual(['a', 'b']);
    expect([...m.freeBuffers.values()].every((l) => l.length === 0)).toBe(true);
  });

  it('leaves other backends alone', () => {
    expect(trimGpuPool(null, 0)).toBe(0);
    expect(trimGpuPool({ textureManager: {} }, 0)).toBe(0);
    expect(trimGpuPool(undefined)).toBe(0);
  });
});
