/**
 * The settings of a new search, as the search panel edits them: target, budget, warm-up, seed,
 * scoring images and evaluator, baselines. Their defaults and bounds are the search's (core/search/config.ts),
 * the same as the CLI's; `problem()` checks them before anything is saved or started.
 */
import type { Evaluator } from '../../core/prune/config';
import type { EvaluatorChoice } from '../../core/search/config';
import { calibrationImages, defaultWarmup, ENV_DEFAULTS, EPISODE_BUDGET, SCORING_DEFAULTS, SEARCH_DEFAULTS, searchConfig, type Protocol, type ResourceKind, type SearchConfig } from '../../core/search/config';
import type { SearchMeta } from '../../workers/search-store';

export const BUDGET_MIN = EPISODE_BUDGET.min;
export const BUDGET_MAX = EPISODE_BUDGET.max;
export const DEFAULT_BUDGET = SEARCH_DEFAULTS.episodes;
export const DEFAULT_REWARD_IMAGES = SCORING_DEFAULTS.rewardImages;
/** Images the refit (AMC's least-squares reconstruction of the layers after a pruned group) calibrates on, when it is on. */
export const REFIT_IMAGES = SCORING_DEFAULTS.refitImages;

/** The evaluators as the search panel offers them: what each does and what it costs. */
export const EVALUATOR_CHOICES: readonly { value: EvaluatorChoice; label: string }[] = [
  { value: 'auto', label: 'Automatic: BatchNorm statistics where the model has them and the images are its own, else the refit' },
  { value: 'refit', label: `Refit by least squares (${calibrationImages('refit')} images; AMC's reconstruction)` },
  { value: 'refit+bn', label: `Refit, then recompute BatchNorm statistics (${calibrationImages('refit+bn')} images)` },
  { value: 'bn', label: `Recompute BatchNorm statistics only (${calibrationImages('bn')} images; adaptive BN, faster)` },
  { value: 'slice', label: 'Slice only (fastest; near chance before fine-tuning on most models)' },
];

const RESOURCE_WORDS: Record<ResourceKind, string> = { macs: 'MACs', params: 'parameters', latency: 'latency' };

export class SearchSettings {
  protocol = $state<Protocol>(ENV_DEFAULTS.protocol);
  resource = $state<ResourceKind>(ENV_DEFAULTS.resource);
  target = $state(ENV_DEFAULTS.target);
  episodes = $state(DEFAULT_BUDGET);
  /** null: the default for the budget (defaultWarmup). */
  warmupOverride = $state<number | null>(null);
  seed = $state(SEARCH_DEFAULTS.seed);
  rewardImages = $state(DEFAULT_REWARD_IMAGES);
  randomBaseline = $state(false);
  evaluator = $state<EvaluatorChoice>(SCORING_DEFAULTS.evaluator);
  readonly warmup = $derived(Math.min(this.warmupOverride ?? defaultWarmup(this.episodes), this.episodes));

  /** The settings as the search's config, with the evaluator `auto` resolved to for the model (SearchState.evaluatorFor). */
  configFromSettings(evaluator: Evaluator): SearchConfig {
    return searchConfig({
      episodes: this.episodes,
      evaluator,
      seed: this.seed,
      env: { protocol: this.protocol, resource: this.resource, target: this.target },
      ddpg: { warmupEpisodes: this.warmup },
    });
  }

  /** Checks the settings; the first problem, in words, or null. */
  settingsProblem(): string | null {
    if (!Number.isInteger(this.episodes) || this.episodes < BUDGET_MIN || this.episodes > BUDGET_MAX) return `The episode budget must be a whole number from ${BUDGET_MIN} to ${BUDGET_MAX}.`;
    if (this.protocol === 'constrained' && !(this.target > 0 && this.target <= 1)) return `The target must be a fraction in (0, 1], e.g. 0.5 for half the ${RESOURCE_WORDS[this.resource]}.`;
    if (!Number.isInteger(this.seed) || this.seed < 0) return 'The seed must be a whole number, 0 or more.';
    if (!Number.isInteger(this.rewardImages) || this.rewardImages < 1) return 'The number of reward images must be a whole number, 1 or more.';
    if (this.warmupOverride !== null && (!Number.isInteger(this.warmupOverride) || this.warmupOverride < 0)) return 'The warm-up must be a whole number of episodes, 0 or more.';
    return null;
  }

  /**
   * Settings from a shared link (`?demo=resnet-like&resource=latency&target=0.5&episodes=60&evaluator=bn`),
   * so a teacher's link opens in the same state; values that do not parse are left at their defaults.
   */
  settingsFromUrl(query: string): void {
    const p = new URLSearchParams(query);
    const num = (k: string) => (p.has(k) && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : undefined);
    const resource = p.get('resource');
    if (resource === 'macs' || resource === 'params' || resource === 'latency') this.resource = resource;
    const protocol = p.get('protocol');
    if (protocol === 'constrained' || protocol === 'accuracy-guaranteed') this.protocol = protocol;
    const target = num('target');
    if (target !== undefined && target > 0 && target <= 1) this.target = target;
    const episodes = num('episodes');
    if (episodes !== undefined && Number.isInteger(episodes) && episodes >= BUDGET_MIN && episodes <= BUDGET_MAX) this.episodes = episodes;
    const seed = num('seed');
    if (seed !== undefined && Number.isInteger(seed) && seed >= 0) this.seed = seed;
    const images = num('images');
    if (images !== undefined && Number.isInteger(images) && images >= 1) this.rewardImages = images;
    const evaluator = p.get('evaluator');
    if (evaluator && (['auto', 'slice', 'bn', 'refit', 'refit+bn'] as string[]).includes(evaluator)) this.evaluator = evaluator as EvaluatorChoice;
    if (p.get('random') === '1') this.randomBaseline = true;
  }

  /** The query that opens these settings again (settingsFromUrl), with `extra` (e.g. the demo model) first. */
  settingsQuery(extra: Record<string, string> = {}): string {
    const p = new URLSearchParams(extra);
    p.set('resource', this.resource);
    if (this.protocol !== ENV_DEFAULTS.protocol) p.set('protocol', this.protocol);
    p.set('target', String(this.target));
    p.set('episodes', String(this.episodes));
    p.set('seed', String(this.seed));
    p.set('images', String(this.rewardImages));
    p.set('evaluator', this.evaluator);
    if (this.randomBaseline) p.set('random', '1');
    return `?${p.toString()}`;
  }

  /** The settings a saved search ran with (shown while it is open, and the start of the next one). */
  settingsFrom(meta: SearchMeta): void {
    const c = meta.config;
    this.protocol = c.env.protocol;
    this.resource = c.env.resource;
    this.target = c.env.target;
    this.episodes = c.episodes;
    this.seed = c.seed;
    this.warmupOverride = c.ddpg.warmupEpisodes === defaultWarmup(c.episodes) ? null : c.ddpg.warmupEpisodes;
    this.randomBaseline = meta.randomBaseline;
    this.rewardImages = meta.data.count;
    // Searches saved before evaluators existed ran the refit when they had calibration images.
    this.evaluator = c.evaluator ?? ((meta.data.calibration ?? 0) > 0 ? 'refit' : 'slice');
  }
}
