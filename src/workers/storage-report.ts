/**
 * What is saved in this browser and about how big each thing is: every saved search and the saved
 * fine-tune. Read only when a write was refused for lack of space (storage-full.ts loads this module
 * on demand), to tell the user what to delete.
 */
import { finetuneSizes } from './finetune-store';
import { searchSizes } from './search-store';
import type { StoredThing } from './storage-full';

export async function storedThings(): Promise<StoredThing[]> {
  const parts = await Promise.allSettled([searchSizes(), finetuneSizes()]);
  return parts.flatMap((p) => (p.status === 'fulfilled' ? p.value : []));
}

/** The browser's own figures for this site (usage and quota, in bytes), where it gives them. */
export async function storageEstimate(): Promise<{ usage?: number; quota?: number } | undefined> {
  const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } } }).navigator?.storage;
  try {
    return storage?.estimate ? await storage.estimate() : undefined;
  } catch {
    return undefined;
  }
}
