/** The shape of bench/results.json, which BENCHMARKS.md is generated from (bench/markdown.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { markdown } from './markdown';
import type { BackendInfo } from '../src/core/measure/backends';
import type { LatencyOptions } from '../src/core/measure/latency';
import type { BrowserInfo, Responsiveness } from './browser';
import type { DeviceSearchResult } from './browser/device-search';
import type { MemoryResult } from './memory';
import type { PolicyRow } from './policy';
import type { RecoveryResult } from './recovery';
import type { EvaluatorStudy } from './evaluators';
import type { PolicyStudy } from './policy-study-section';
import type { PolicyFinetuneResult } from './policy-finetune-section';
import type { RepeatRow } from './repeatability';
import type { SearchSettings } from './runs';
import type { ScaleRow } from './scale';
import type { CostRow } from './search-cost';
import type { SpeedupRow } from './speedup';

export interface RunSummary {
  name: string;
  dir: string;
  status: 'reused' | 'ran' | 'failed' | 'missing';
  imported?: string;
  error?: string;
  episodes?: number;
  seconds?: number;
  bestEpisode?: number;
  bestPhase?: string;
  testTop1?: number;
  uniformTop1?: number;
  resourceRatio?: number;
}

export interface Results {
  date: string;
  quick: boolean;
  command: string;
  seconds: number;
  machine: { cpu: string; cores: number; memoryGB: number; os: string; node: string; loadStart: number[]; loadEnd: number[] };
  versions: Record<string, string>;
  nodeBackend: BackendInfo;
  settings: {
    models: string[];
    missing: string[];
    seeds: number[];
    search: SearchSettings;
    jobs: number;
    runsDir: string;
    fresh: boolean;
    reuseOnly: boolean;
    imported: number;
  };
  runs: RunSummary[];
  policy: PolicyRow[];
  speedup: { rows: SpeedupRow[]; nodeTiming: LatencyOptions; browserTiming: LatencyOptions; browser?: BrowserInfo; browserError?: string };
  /** The latency harness's repeatability, Node WASM then Chromium WASM. */
  repeatability: RepeatRow[];
  cost: CostRow[];
  scale: ScaleRow[];
  memory?: MemoryResult;
  /** The same long search in Chromium on WebGPU (a fallback adapter such as SwiftShader counts: it is memory, not speed). */
  memoryWebGpu?: MemoryResult;
  memoryWebGpuError?: string;
  /** Latency- and MACs-constrained searches by the app's worker in Chromium, their models timed side by side. */
  deviceSearch?: DeviceSearchResult;
  deviceSearchError?: string;
  responsiveness?: Responsiveness;
  responsivenessError?: string;
  /** Fine-tuning by distillation (bench/recovery.ts), written into results.json by that script or a full run. */
  recovery?: RecoveryResult;
  /** Which evaluator ranks policies as fine-tuning does (bench/evaluators.ts), written by that script. */
  evaluators?: EvaluatorStudy;
  /** Policy quality with the app's default evaluator, before and after fine-tuning (bench/policy-study.ts), written by that script. */
  policyAuto?: PolicyStudy;
  /** The same study at another episode budget (`--episodes 300`: the default's), where it was run. */
  policyBudget?: PolicyStudy;
  /** Section 9's start points (uniform, random search's best, AMC's best) fine-tuned by `amc finetune` (bench/policy-finetune.ts), written by that script. */
  policyFinetune?: PolicyFinetuneResult;
  notes: string[];
}

/**
 * Writes one study's result into bench/results.json, the other keys as they are on disk now (other
 * scripts publish into the same file), and regenerates BENCHMARKS.md from the whole of it.
 */
export function publish<K extends keyof Results>(key: K, value: Results[K]): void {
  const results = JSON.parse(readFileSync('bench/results.json', 'utf8')) as Results;
  results[key] = value;
  writeFileSync('bench/results.json', JSON.stringify(results, null, 2) + '\n');
  writeFileSync('BENCHMARKS.md', markdown(results));
}
