/**
 * A user's image files -> a plan of what to decode: labeled (one subfolder per class) or
 * unlabeled (loose images, scored by fidelity to the original model), with the class of every
 * image mapped to the model's output index.
 *
 * Layout: when every file sits in one shared top folder (what a folder picker or a dropped folder
 * gives), that folder is the data set's root. Images in subfolders of the root are labeled by the
 * first subfolder's name; images directly in the root are unlabeled, unless there are class
 * folders too, in which case they are skipped (and reported).
 *
 * Class index, first rule that applies:
 * 1. a Teachable Machine `metadata.json` (`{"labels": [...]}`) or `labels.txt` among the files;
 * 2. labels that came with the model (its metadata.json);
 * 3. the demo dataset's class names, when every folder is named after one, the model has 10 outputs
 *    and the demo's labels are the model's own (`demoClasses`: a bundled demo model, or the user says so);
 * 4. folder names sorted by code point, as Keras (image_dataset_from_directory) and PyTorch
 *    (ImageFolder) order classes when they train, so "class 10" comes before "class 2".
 * With labels (1-3), folders are matched to labels by name (case, spaces, "_" and "-" ignored);
 * folders that match no label are skipped and listed.
 */
import { ModelError } from '../model/errors';
import { baseName, type ModelFile } from '../model/files';
import { CLASS_NAMES } from './procedural';
import { isImagePath } from './images';

export type LabelSource = 'data metadata.json' | 'data labels.txt' | 'model metadata.json' | 'demo classes' | 'folder names';

export interface PlannedImage {
  file: ModelFile;
  /** Output index, or -1 in an unlabeled set. */
  label: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DataPlan {
  kind: 'labeled' | 'unlabeled';
  /** The shared top folder ('' for loose files). */
  root: string;
  images: PlannedImage[];
  /** Class name per output index (labeled sets). */
  classNames: string[];
  /** Images per output index (labeled sets). */
  counts: number[];
  skipped: SkippedFile[];
  /** Folders whose name matched no label. */
  unmatched: string[];
  labelSource?: LabelSource;
  /** The file the labels came from, when they came from a file. */
  labelFile?: string;
}

export interface PlanOptions {
  /** A path prefix every file starts with, used as the root (the CLI's DIR). */
  root?: string;
  /** Class labels that came with the model, in output order. */
  modelLabels?: string[];
  /** The file beside the model they came from (default metadata.json). */
  modelLabelsFile?: string;
  /**
   * Whether the demo dataset's classes are the model's own (core/data/demo-labels.ts), so folders
   * named after them take the demo's order (default true: the CLI, where the user names the model).
   */
  demoClasses?: boolean;
  /** Number of classes the model outputs, when known. */
  numOutputs?: number;
}

/** Labels in a Teachable Machine metadata.json (or similar), if it has a list of strings. */
export function labelsOf(json: unknown): string[] | undefined {
  const labels = (json as { labels?: unknown } | null)?.labels;
  return Array.isArray(labels) && labels.length > 0 && labels.every((x) => typeof x === 'string') ? (labels as string[]) : undefined;
}

/** Natural order: digit runs compare as numbers ("class 2" < "class 10"), then plain code-unit order. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  if (ra.length !== rb.length) return ra.length - rb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const norm = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();

function list(names: string[], max = 6): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length} in all)`;
}

async function readText(file: ModelFile): Promise<string> {
  return new TextDecoder().decode(await file.read());
}

const IGNORED = /^(\.|thumbs\.db$|desktop\.ini$)/i;

export async function planImageFiles(files: ModelFile[], opts: PlanOptions = {}): Promise<DataPlan> {
  if (files.length === 0) {
    throw new ModelError('(nothing)', 'No files were dropped or selected.', 'Drop a folder with one subfolder of images per class, or a few images.');
  }
  const paths = files.map((f) => f.path.replace(/\\/g, '/'));
  // The root: the given prefix, or one top folder shared by every file.
  let root = '';
  if (opts.root !== undefined) {
    root = opts.root.replace(/\\/g, '/').replace(/\/+$/, '');
  } else {
    const tops = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')));
    const [only] = tops;
    if (tops.size === 1 && only) root = only;
  }
  const rel = paths.map((p) => (root && p.startsWith(root + '/') ? p.slice(root.length + 1) : p));
  const shownRoot = root || 'the selected files';
  const shown = (folder: string) => (root ? `${root}/${folder}/` : `${folder}/`);

  const skipped: SkippedFile[] = [];
  let dataLabels: string[] | undefined;
  let labelFile: string | undefined;
  let labelSource: LabelSource | undefined;
  const loose: ModelFile[] = [];
  const byFolder = new Map<string, ModelFile[]>();
  const otherInFolder = new Map<string, number>();

  for (let i = 0; i < files.length; i++) {
    const r = rel[i];
    const name = baseName(r);
    const folder = r.includes('/') ? r.slice(0, r.indexOf('/')) : '';
    if (IGNORED.test(name)) {
      skipped.push({ path: paths[i], reason: 'system file' });
      continue;
    }
    if (!folder && (/^metadata\.json$/i.test(name) || /^labels\.txt$/i.test(name)) && !dataLabels) {
      const text = await readText(files[i]);
      let labels: string[] | undefined;
      if (/\.json$/i.test(name)) {
        try {
          labels = labelsOf(JSON.parse(text));
        } catch (e) {
          throw new ModelError(paths[i], `is not valid JSON (${String((e as Error).message ?? e).split('\n')[0]}).`, 'Fix or remove it; a Teachable Machine metadata.json lists the class labels as {"labels": [...]}.');
        }
      } else {
        labels = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => l.replace(/^\d+\s+/, ''));
        if (labels.length === 0) labels = undefined;
      }
      if (labels) {
        dataLabels = labels;
        labelFile = paths[i];
        labelSource = /\.json$/i.test(name) ? 'data metadata.json' : 'data labels.txt';
      } else skipped.push({ path: paths[i], reason: 'no "labels" list' });
      continue;
    }
    if (!isImagePath(name)) {
      skipped.push({ path: paths[i], reason: 'not an image' });
      if (folder) otherInFolder.set(folder, (otherInFolder.get(folder) ?? 0) + 1);
      continue;
    }
    if (folder) {
      if (!byFolder.has(folder)) byFolder.set(folder, []);
      byFolder.get(folder)!.push(files[i]);
    } else loose.push(files[i]);
  }

  const byPath = (a: ModelFile, b: ModelFile) => naturalCompare(a.path, b.path);

  // Folders with files but no image at all: the user meant a class and it is empty.
  for (const [folder, n] of otherInFolder) {
    if (!byFolder.has(folder)) {
      throw new ModelError(shown(folder), `is a class folder with no images (${n} other file${n === 1 ? '' : 's'}).`, 'Put PNG or JPEG images of that class in it, or remove the folder.');
    }
  }

  if (byFolder.size === 0) {
    if (loose.length === 0) {
      const other = skipped.map((s) => baseName(s.path));
      throw new ModelError(
        shownRoot,
        `hold${root ? 's' : ''} no images${other.length ? ` (${other.length} other file${other.length === 1 ? '' : 's'} skipped: ${list(other, 4)})` : ''}.`,
        'Drop a folder with one subfolder of images per class (labeled), or a few images (unlabeled, for fidelity); PNG, JPEG, GIF, WebP and BMP are read.',
      );
    }
    loose.sort(byPath);
    return { kind: 'unlabeled', root, images: loose.map((file) => ({ file, label: -1 })), classNames: [], counts: [], skipped, unmatched: [] };
  }

  for (const f of loose) skipped.push({ path: f.path, reason: 'image outside the class folders' });
  // Code-point order, as training tools sort class folders.
  const folders = [...byFolder.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  let labels = dataLabels;
  if (!labels && opts.modelLabels?.length) {
    labels = opts.modelLabels;
    labelSource = 'model metadata.json';
    if (opts.modelLabelsFile) labelFile = opts.modelLabelsFile;
  }
  if (labels && opts.numOutputs !== undefined && labels.length !== opts.numOutputs) {
    throw new ModelError(
      labelFile ?? 'metadata.json (with the model)',
      `lists ${labels.length} class labels but the model has ${opts.numOutputs} outputs.`,
      'Use the metadata.json exported with this model, or remove it to map folders to outputs in sorted order.',
    );
  }
  if (!labels && opts.demoClasses !== false) {
    const demo = CLASS_NAMES.map(norm);
    if ((opts.numOutputs === undefined || opts.numOutputs === CLASS_NAMES.length) && folders.every((f) => demo.includes(norm(f)))) {
      labels = [...CLASS_NAMES];
      labelSource = 'demo classes';
    }
  }

  const images: PlannedImage[] = [];
  const unmatched: string[] = [];
  let classNames: string[];
  if (labels) {
    classNames = [...labels];
    const index = new Map(labels.map((l, i) => [norm(l), i]));
    for (const folder of folders) {
      const k = index.get(norm(folder));
      const inFolder = byFolder.get(folder)!.sort(byPath);
      if (k === undefined) {
        unmatched.push(folder);
        for (const f of inFolder) skipped.push({ path: f.path, reason: 'folder matches no class label' });
        continue;
      }
      for (const file of inFolder) images.push({ file, label: k });
    }
    if (images.length === 0) {
      throw new ModelError(
        shownRoot,
        `has class folders (${list(folders)}) but none is named after a class label of ${labelFile ?? (labelSource === 'model metadata.json' ? "the model's metadata.json" : 'the model')} (${list(labels)}).`,
        'Name each subfolder exactly as its class label.',
      );
    }
  } else {
    labelSource = 'folder names';
    if (opts.numOutputs !== undefined && folders.length !== opts.numOutputs) {
      throw new ModelError(
        shownRoot,
        `has ${folders.length} class folder${folders.length === 1 ? '' : 's'} (${list(folders)}) but the model has ${opts.numOutputs} outputs; without class labels, folders map to outputs in sorted order, so the counts must match.`,
        'Add a metadata.json with {"labels": [...]} in the model\'s output order (Teachable Machine exports have one), or give one subfolder per output.',
      );
    }
    classNames = folders;
    folders.forEach((folder, k) => {
      for (const file of byFolder.get(folder)!.sort(byPath)) images.push({ file, label: k });
    });
  }
  const counts = new Array<number>(classNames.length).fill(0);
  for (const im of images) counts[im.label]++;
  return { kind: 'labeled', root, images, classNames, counts, skipped, unmatched, labelSource, labelFile };
}

/** One line describing where class indices come from, for the UI and CLI. */
export function labelSourceText(plan: DataPlan): string {
  switch (plan.labelSource) {
    case 'data metadata.json':
    case 'data labels.txt':
      return `class order from ${plan.labelFile}`;
    case 'model metadata.json':
      return `class order from the model's ${plan.labelFile ?? 'metadata.json'}`;
    case 'demo classes':
      return "folders named after the demo dataset's classes: its class order";
    case 'folder names':
      return 'class order: folder names sorted as training tools sort them (no labels came with the model or the data)';
    default:
      return 'unlabeled: fidelity to the original model';
  }
}
