/**
 * The CLI never loses a user's file and never shows a stack trace: --out checks (the input's own
 * folder by any spelling, a file, existing model files, --force), atomic writes, unknown flags,
 * exit codes. The command-line cases run the real CLI on a fixture model built with tfjs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../core/model/errors';
import { loadModel } from '../core/model/load';
import { filesFromPath } from '../core/model/node-files';
import { exportModel, sequentialCnn } from '../testing/fixtures';
import { ArgumentError, checkArgs, closestFlag, parseArgs, UsageError } from './args';
import { report } from './failure';
import { outFolder, writeOutputs } from './out-dir';

const ROOT = process.cwd();
let dir: string;
/** The user's model: dir/model/{model.json, weights.bin}. */
let model: string;
let original: Record<string, Buffer>;

function amc(args: string[], cwd = ROOT) {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

const snapshot = (folder: string) => Object.fromEntries(readdirSync(folder).sort().map((n) => [n, readFileSync(join(folder, n))]));

/** The model's folder holds exactly its two files, byte for byte (no temporary file, no report.json). */
function expectUntouched() {
  expect(readdirSync(model).sort()).toEqual(['model.json', 'weights.bin']);
  const now = snapshot(model);
  for (const n of Object.keys(original)) expect(now[n].equals(original[n]), n).toBe(true);
}

const PRUNE = (out: string, ...more: string[]) => ['prune', join(model, 'model.json'), '--policy', 'uniform:0.5', '--round-to', '1', '--out', out, ...more];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-out-'));
  model = join(dir, 'model');
  mkdirSync(model);
  const e = await exportModel(sequentialCnn());
  writeFileSync(join(model, 'model.json'), JSON.stringify(e.modelJson));
  writeFileSync(join(model, 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
  original = snapshot(model);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('amc --out never replaces the input model', () => {
  it('refuses the input folder by its path, as . inside it, as .. from below, and through a link, leaving every byte', () => {
    const spellings: [string[], string][] = [
      [PRUNE(model), ROOT],
      [['prune', 'model.json', '--policy', 'uniform:0.5', '--out', '.'], model],
      [['prune', '.', '--policy', 'uniform:0.5', '--out', './'], model],
    ];
    mkdirSync(join(dir, 'below'));
    spellings.push([['prune', '../model/model.json', '--policy', 'uniform:0.5', '--out', '../model/.'], join(dir, 'below')]);
    symlinkSync(model, join(dir, 'link-to-model'));
    spellings.push([PRUNE(join(dir, 'link-to-model')), ROOT]);
    for (const [args, cwd] of spellings) {
      const r = amc(args, cwd);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toHaveLength(1);
      expect(r.stderr[0]).toMatch(/^amc prune: .+: is the folder of the input model .+ \(it holds model\.json, weights\.bin\): writing there would replace that model\. Give --out a new folder, e\.g\. --out .*model-pruned, or add --force to write there anyway\.$/);
      expectUntouched();
    }
  }, 120_000);

  it('refuses a file as --out (the model.json itself or another file) in one line, not an EEXIST stack trace', () => {
    const self = amc(PRUNE(join(model, 'model.json')));
    expect(self.code).toBe(1);
    expect(self.stderr).toHaveLength(1);
    expect(self.stderr[0]).toMatch(/model\.json: is the input model file itself; --out takes a folder .* Give --out a new folder, e\.g\. --out /);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const other = amc(PRUNE(join(dir, 'notes.txt')));
    expect(other.code).toBe(1);
    expect(other.stderr).toHaveLength(1);
    expect(other.stderr[0]).toMatch(/notes\.txt: is a file; --out takes a folder \(prune writes model\.json, model\.weights\.bin, report\.json into it\)/);
    expect(other.stderr.join('\n')).not.toMatch(/EEXIST|\n\s+at /);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expectUntouched();
  }, 60_000);

  it('refuses a folder that already holds a model unless --force, which replaces it with a model that loads', async () => {
    const out = join(dir, 'earlier');
    mkdirSync(out);
    writeFileSync(join(out, 'model.json'), '{"mine": true}');
    writeFileSync(join(out, 'shard1.bin'), 'bytes');
    const refused = amc(PRUNE(out));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toHaveLength(1);
    expect(refused.stderr[0]).toMatch(/earlier: already holds model\.json, shard1\.bin: a model written there would replace or mix with them\. Give --out a new or empty folder.* or add --force to write there anyway\.$/);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('{"mine": true}');
    const forced = amc(PRUNE(out, '--force'));
    expect(forced.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'model.weights.bin', 'report.json', 'shard1.bin']);
    const reloaded = await loadModel(filesFromPath(join(out, 'model.json')));
    expect(reloaded.weights.length).toBeGreaterThan(0);
    // --force on the input's own folder is the user's explicit choice: the model is replaced whole.
    const self = join(dir, 'self');
    mkdirSync(self);
    for (const n of Object.keys(original)) writeFileSync(join(self, n), original[n]);
    const r = amc(['prune', join(self, 'model.json'), '--policy', 'uniform:0.5', '--out', self, '--force']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(self, 'model.json')).equals(original['model.json'])).toBe(false);
    expect(readdirSync(self).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});

describe('amc refuses unknown flags and stray arguments, with exit codes a script can tell apart', () => {
  it('an unknown flag names the closest known one and the list, exits 1, and writes nothing', () => {
    const out = join(dir, 'typo');
    const r = amc(PRUNE(out, '--refitt'));
    expect(r.code).toBe(1);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(/^amc prune: unknown flag --refitt for prune; did you mean --refit\? Known flags: --calibration, --criterion, --data, --force, .*--policy-file, --refit, --round-to, --seed\.$/);
    expect(existsSync(out)).toBe(false);
    const bogus = amc(['inspect', join(model, 'model.json'), '--bogus-flag', '3']);
    expect(bogus.code).toBe(1);
    expect(bogus.stderr).toEqual(['amc inspect: unknown flag --bogus-flag for inspect. Known flags: --help, --input-size, --json, --max-bytes, --outputs.']);
    expect(bogus.stdout).toBe('');
  }, 60_000);

  it('exit 2 for a missing required flag (usage follows), 0 for --help, 0 for a good run', () => {
    const missing = amc(['prune', join(model, 'model.json'), '--policy', 'uniform:0.5']);
    expect(missing.code).toBe(2);
    expect(missing.stderr[0]).toMatch(/prune needs --out DIR/);
    const help = amc(['prune', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--out DIR \[--force\]/);
    const ok = amc(PRUNE(join(dir, 'fresh')));
    expect(ok.code).toBe(0);
    expect(readdirSync(join(dir, 'fresh')).sort()).toEqual(['model.json', 'model.weights.bin', 'report.json']);
  }, 60_000);

  it('checkArgs knows every command table entry and suggests by edit distance', () => {
    const spec = { flags: ['out', 'force', 'refit', 'policy', 'policy-file', 'round-to'], positional: 1, positionalText: 'one model' };
    expect(closestFlag('refitt', spec.flags)).toBe('refit');
    expect(closestFlag('polcy-file', spec.flags)).toBe('policy-file');
    expect(closestFlag('roundto', spec.flags)).toBe('round-to');
    expect(closestFlag('zzzzzzzz', spec.flags)).toBeUndefined();
    expect(() => checkArgs('prune', parseArgs(['m.json', '--out', 'd', '--forse']), spec)).toThrow(/unknown flag --forse for prune; did you mean --force\?/);
    expect(() => checkArgs('prune', parseArgs(['m.json', 'extra.json']), spec)).toThrow(ArgumentError);
    expect(() => checkArgs('prune', parseArgs(['m.json', '-out', 'd']), spec)).toThrow(/unexpected argument '-out'.*did you mean --out\?/);
    expect(() => checkArgs('prune', parseArgs(['--force', 'm.json', '--out', 'd']), spec)).not.toThrow();
  });

  it('an unexpected error is one line with exit 70, a refusal one line with exit 1, control characters escaped', () => {
    const lines: string[] = [];
    const bug = new TypeError("Cannot read properties of null (reading 'split')");
    expect(report('inspect', bug, 'm.json', 'USAGE', (l) => lines.push(l))).toBe(70);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^amc inspect: unexpected error on m\.json: TypeError: Cannot read properties of null \(reading 'split'\)\. This is a bug in amc; set AMC_DEBUG=1/);
    expect(lines[0]).not.toMatch(/\n|\bat /);
    lines.length = 0;
    expect(report('inspect', new ModelError('m.json', 'is not JSON (\u0089PNG\r\n\u001a).', 'Give a model.json.'), 'm.json', 'USAGE', (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(['amc inspect: m.json: is not JSON (\\x89PNG  \\x1a). Give a model.json.']);
    lines.length = 0;
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: 'data/cat.png' });
    expect(report('eval', enoent, 'm.json', 'USAGE', (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(['amc eval: data/cat.png: does not exist. Check the path and its permissions.']);
    expect(report('prune', new UsageError('prune needs --out DIR.'), 'm.json', 'USAGE', () => {})).toBe(2);
  });
});

describe('out-dir: checks and atomic writes', () => {
  it('outFolder refuses the folder of any input (finetune has two), a dangling link and a path under a file', () => {
    const teacher = join(dir, 'teacher');
    mkdirSync(teacher);
    writeFileSync(join(teacher, 'model.json'), '{}');
    expect(() => outFolder(teacher, 'finetune', [join(model, 'model.json'), join(teacher, 'model.json')], false)).toThrow(/is the folder of the input model .*teacher.model\.json/);
    expect(() => outFolder(relative(ROOT, model), 'prune', [model], false)).toThrow(/is the folder of the input model/);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(() => outFolder(join(dir, 'dangling'), 'prune', [model], false)).toThrow(/dangling: is a link to .*nowhere, which does not exist/);
    expect(() => outFolder(join(model, 'model.json', 'sub'), 'prune', [model], false)).toThrow(/cannot be a folder: part of its path is a file/);
    expect(() => outFolder('', 'prune', [model], false)).toThrow(ModelError);
    // A folder with other files (a policy, logs) is fine: nothing of the user's is replaced.
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(join(logs, 'policy.json'), '{}');
    expect(outFolder(logs, 'prune', [model], false).dir).toBe(logs);
    expectUntouched();
  });

  it('writeOutputs leaves no temporary files, replaces nothing when one file cannot be written, and refuses files that appeared meanwhile', () => {
    const out = join(dir, 'atomic');
    const t = outFolder(out, 'prune', [model], false);
    writeOutputs(t, [['model.json', '{"a":1}'], ['model.weights.bin', new Uint8Array([1, 2, 3])]]);
    writeOutputs(t, [['report.json', '{}']]); // the same run's second write: not a conflict
    expect(readdirSync(out).sort()).toEqual(['model.json', 'model.weights.bin', 'report.json']);
    expect([...readFileSync(join(out, 'model.weights.bin'))]).toEqual([1, 2, 3]);

    const blocked = join(dir, 'blocked');
    const b = outFolder(blocked, 'prune', [model], true);
    mkdirSync(join(blocked, 'report.json'), { recursive: true });
    writeFileSync(join(blocked, 'model.weights.bin'), 'old');
    expect(() => writeOutputs(b, [['model.json', '{}'], ['model.weights.bin', 'new'], ['report.json', '{}']])).toThrow(/report\.json: is a folder, so the file cannot be written there/);
    expect(readFileSync(join(blocked, 'model.weights.bin'), 'utf8')).toBe('old');
    expect(readdirSync(blocked).sort()).toEqual(['model.weights.bin', 'report.json']);

    const race = join(dir, 'race');
    const r = outFolder(race, 'prune', [model], false);
    mkdirSync(race);
    writeFileSync(join(race, 'model.json'), 'another run');
    expect(() => writeOutputs(r, [['model.json', '{}']])).toThrow(/gained model\.json while this command ran/);
    expect(readFileSync(join(race, 'model.json'), 'utf8')).toBe('another run');
  });
});

describe('model folders with broken entries', () => {
  it('a dangling link beside the model is skipped when unused, and named in one refusal when the manifest needs it', async () => {
    const d = join(dir, 'links');
    mkdirSync(d);
    for (const n of Object.keys(original)) writeFileSync(join(d, n), original[n]);
    symlinkSync(join(dir, 'gone.bin'), join(d, 'extra.bin'));
    expect((await loadModel(filesFromPath(join(d, 'model.json')))).weights.length).toBeGreaterThan(0);
    rmSync(join(d, 'weights.bin'));
    symlinkSync(join(dir, 'gone.bin'), join(d, 'weights.bin'));
    await expect(loadModel(filesFromPath(join(d, 'model.json')))).rejects.toThrow(/weights\.bin: is a link to .*gone\.bin, which does not exist\. Restore the file/);
    symlinkSync(join(dir, 'gone.json'), join(dir, 'model-link.json'));
    expect(() => filesFromPath(join(dir, 'model-link.json'))).toThrow(/model-link\.json: is a link to .*gone\.json, which does not exist/);
  });
});
