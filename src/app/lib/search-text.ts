/** How the search panel names saved searches: the model, the target, the state. */
import { baseName } from '../../core/model/files';
import { modelDisplayName } from '../../core/model/identity';
import { isFinished, type SearchMeta } from '../../workers/search-store';

export const pct = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`);

const RESOURCE: Record<string, string> = { macs: 'MACs', params: 'params', latency: 'latency' };

export function resourceName(kind: string): string {
  return RESOURCE[kind] ?? kind;
}

/** The model's name (core/model/identity.ts), not "model.json": searches saved before names are named from their path or URL. */
export function modelName(m: SearchMeta): string {
  const s = m.model.source;
  if (s.kind === 'builtin') return s.demo ?? s.label;
  return s.name ?? (modelDisplayName({ kind: s.kind, path: s.kind === 'url' ? s.label : m.model.name }) || baseName(s.label));
}

export function targetText(m: Pick<SearchMeta, 'config'>): string {
  const { resource, protocol, target } = m.config.env;
  return protocol === 'constrained' ? `${resourceName(resource)} ≤ ${pct(target, 0)}` : `${resourceName(resource)}, accuracy-guaranteed`;
}

export function stateText(m: SearchMeta): 'done' | 'stopped' | 'unfinished' {
  if (isFinished(m)) return 'done';
  return m.stopped ? 'stopped' : 'unfinished';
}
