/**
 * What a per-group slider shows: the kept count snapped to the nearest multiple of `roundTo`
 * (never 0, never above the group; a group smaller than `roundTo` is not rounded, and all channels
 * is always allowed). The pruner's roundChannels leaves these values as they are.
 */
export function snapKeep(value: number, channels: number, roundTo: number): number {
  const v = Math.min(Math.max(Math.round(value), 1), channels);
  if (roundTo <= 1 || channels < roundTo || v === channels) return v;
  const snapped = Math.max(roundTo, Math.round(v / roundTo) * roundTo);
  return snapped > channels ? channels : snapped;
}
