/**
 * `--max-bytes`: the cost ceiling's refusal tells the user to raise it with this flag, so every
 * command that loads a model takes it, in the units the refusal writes (e.g. "2.00 GiB").
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModel, sequentialCnn } from '../testing/fixtures';
import { bytesFlag, parseArgs, UsageError } from './args';

const ROOT = process.cwd();
let dir: string;
let modelJson: string;

function amc(args: string[]) {
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !/nodedir|tfjs-node|Hi, looks|====/.test(l)) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amc-max-bytes-'));
  mkdirSync(join(dir, 'model'));
  const e = await exportModel(sequentialCnn());
  modelJson = join(dir, 'model', 'model.json');
  writeFileSync(modelJson, JSON.stringify(e.modelJson));
  writeFileSync(join(dir, 'model', 'weights.bin'), new Uint8Array(e.shards['weights.bin']));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bytesFlag', () => {
  const flag = (v?: string) => bytesFlag(parseArgs(v === undefined ? [] : ['--max-bytes', v]), 'max-bytes');
  it('reads whole bytes and the units the refusals write', () => {
    expect(flag()).toBeUndefined();
    expect(flag('4096')).toBe(4096);
    expect(flag('4GiB')).toBe(4 * 1024 ** 3);
    expect(flag('2.00 GiB')).toBe(2 * 1024 ** 3);
    expect(flag('512M')).toBe(512 * 1024 ** 2);
    expect(flag('1.5kb')).toBe(1536);
  });
  it('refuses what is not a size, in one line', () => {
    for (const v of ['lots', '-3', '0', '4 TB', '1e9', 'constructor', '4toString']) expect(() => flag(v), v).toThrow(UsageError);
    expect(() => bytesFlag(parseArgs(['--max-bytes']), 'max-bytes')).toThrow(/--max-bytes needs a size in bytes, such as 4294967296 or 4GiB, got ''/);
  });
});

describe('amc --max-bytes', () => {
  it('lowers or raises the ceiling for inspect and prune, as the refusal says', () => {
    const low = amc(['inspect', modelJson, '--max-bytes', '1KiB']);
    expect(low.code).toBe(1);
    expect(low.stderr).toHaveLength(1);
    expect(low.stderr[0]).toMatch(/model\.json: would need .* over the limit of 1\.0 KiB\..*--max-bytes in the CLI/);
    const raised = amc(['inspect', modelJson, '--max-bytes', '1GiB', '--json']);
    expect(raised.code).toBe(0);
    const pruneLow = amc(['prune', modelJson, '--policy', 'uniform:0.5', '--out', join(dir, 'out'), '--max-bytes', '1KiB']);
    expect(pruneLow.code).toBe(1);
    expect(pruneLow.stderr[0]).toMatch(/over the limit of 1\.0 KiB/);
    const bad = amc(['inspect', modelJson, '--max-bytes', 'lots']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr[0]).toMatch(/--max-bytes needs a size in bytes/);
  }, 120_000);

  it('is a known flag of every command that loads a model', () => {
    for (const command of ['inspect', 'prune', 'eval', 'search', 'finetune']) {
      const r = amc([command, modelJson, '--max-bytes-typo', '1']);
      expect(r.stderr.join('\n'), command).toMatch(/did you mean --max-bytes\?/);
    }
  }, 120_000);
});
