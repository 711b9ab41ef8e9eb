/**
 * Which channels of a tensor survive, from the kept channels of the groups in its layout.
 */
import type { ChannelLayout } from '../model/groups';

/** Kept channel indices per group id, ascending; groups not listed keep everything. */
export type KeptChannels = ReadonlyMap<string, readonly number[]>;

/**
 * Kept indices along a tensor's last axis. With a Flatten factor S, feature p*C + c survives when
 * channel c does (channels-last flattening).
 */
export function keptIndices(layout: ChannelLayout, kept: KeptChannels): number[] {
  const channelIdx: number[] = [];
  let offset = 0;
  for (const seg of layout.segments) {
    const k = kept.get(seg.group);
    if (k) for (const c of k) channelIdx.push(offset + c);
    else for (let c = 0; c < seg.channels; c++) channelIdx.push(offset + c);
    offset += seg.channels;
  }
  if (layout.spatial === 1) return channelIdx;
  const out: number[] = [];
  for (let p = 0; p < layout.spatial; p++) for (const c of channelIdx) out.push(p * offset + c);
  return out;
}

export function totalLength(layout: ChannelLayout): number {
  return layout.spatial * layout.segments.reduce((s, x) => s + x.channels, 0);
}
