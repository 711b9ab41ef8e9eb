#!/usr/bin/env node
/**
 * `npm test`: type check, unit tests (Vitest, Node) and end-to-end tests (Playwright, Debian's
 * Chromium). Installs Chromium with apt-get when it is missing and we are root; otherwise says
 * exactly what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function run(cmd, args, opts = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function ensureChromium() {
  if (existsSync(chromium)) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt && !process.env.CHROMIUM_PATH) {
    console.log(`Chromium is missing at ${chromium}: installing Debian's chromium with apt-get.`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-qq'], { env }) === 0 && run('apt-get', ['install', '-y', '-qq', 'chromium'], { env }) === 0 && existsSync(chromium)) return;
  }
  console.error(
    `\nThe end-to-end tests need Chromium at ${chromium}, and it is not there.\n` +
      `Install it with:  sudo apt-get install -y chromium   (Debian/Ubuntu)\n` +
      `or point CHROMIUM_PATH at a Chromium or Chrome binary:  CHROMIUM_PATH=/path/to/chrome npm test\n` +
      `(Playwright's own browser download is not used: it needs network access this project does not assume.)`,
  );
  process.exit(1);
}

const steps = [
  ['type check', () => run('npx', ['svelte-check', '--tsconfig', './tsconfig.json', '--threshold', 'error'])],
  ['unit tests', () => run('npx', ['vitest', 'run'])],
  ['end-to-end tests', () => (ensureChromium(), run('npx', ['playwright', 'test']))],
];

const only = process.argv[2];
for (const [name, step] of steps) {
  if (only && !name.startsWith(only)) continue;
  const code = step();
  if (code !== 0) {
    console.error(`\nnpm test: ${name} failed (exit ${code}).`);
    process.exit(code);
  }
}
console.log('\nnpm test: all passed.');
