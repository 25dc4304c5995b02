// A fresh machine, two commands (README "Quickstart"): `npm run snapshot` and `npm test` each set the machine up
// with scripts/setup.sh first, and CI's .ci/run is exactly those two commands.
import { execa } from 'execa';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SETUP = path.join(ROOT, 'scripts', 'setup.sh');
const LISTS = ['.ci/apt-packages-build.txt', '.ci/apt-packages.txt'];
/** The uid/gid of "nobody": setup.sh run as a user who cannot install anything. */
const NOBODY = 65534;

const read = (rel: string) => readFile(path.join(ROOT, rel), 'utf8');
const packagesOf = (text: string) => text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
/** Command lines of a shell script or sh block: no comments, no shell plumbing (set, cd, echo). */
const commandsOf = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l && !/^(set|cd|echo)\b/.test(l));

describe("the README's two commands", () => {
  it('.ci/run runs exactly the README quickstart commands, in order', async () => {
    const readme = await read('README.md');
    const quickstart = readme.slice(readme.indexOf('## Quickstart'));
    const block = /```sh\n([\s\S]*?)```/.exec(quickstart)?.[1];
    expect(block).toBeDefined();
    expect(commandsOf(block!)).toEqual(['npm run snapshot', 'npm test']);
    expect(commandsOf(await read('.ci/run'))).toEqual(['npm run snapshot', 'npm test']);
  });

  it('both npm scripts set the machine up before the work', async () => {
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.snapshot).toBe('bash scripts/setup.sh build && node bin/stigmer-dist.js build --snapshot');
    expect(pkg.scripts.test).toMatch(/^bash scripts\/setup\.sh test && /);
  });

  it('the set-up scripts are shellcheck-clean', async () => {
    for (const file of [SETUP, path.join(ROOT, '.ci', 'run')]) {
      const r = await execa('shellcheck', [file], { reject: false });
      expect(r.exitCode, `${file}\n${r.stdout}`).toBe(0);
    }
  });

  it('every listed Debian package exists in the archive, each listed once', async () => {
    const all = (await Promise.all(LISTS.map(read))).flatMap(packagesOf);
    expect(new Set(all).size, 'a package in both lists').toBe(all.length);
    const r = await execa('apt-cache', ['show', '--no-all-versions', ...all], { reject: false });
    const found = new Set([...r.stdout.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]));
    expect(all.filter((p) => !found.has(p))).toEqual([]);
  });

  it('the build list has what `build --snapshot` runs: go and every default target tool', async () => {
    expect(packagesOf(await read('.ci/apt-packages-build.txt')).sort()).toEqual(['createrepo-c', 'gnupg', 'golang-go', 'msitools', 'osslsigncode', 'rpm', 'wixl', 'xz-utils', 'zstd']);
  });
});

describe('scripts/setup.sh', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stigmer-setup-'));
    await chmod(dir, 0o755);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A checkout with setup.sh, the given package lists and an up-to-date node_modules (so npm ci is skipped). */
  async function checkout(name: string, build: string[], test: string[]): Promise<string> {
    const top = path.join(dir, name);
    await mkdir(path.join(top, 'scripts'), { recursive: true });
    await mkdir(path.join(top, '.ci'));
    await mkdir(path.join(top, 'node_modules'));
    await copyFile(SETUP, path.join(top, 'scripts', 'setup.sh'));
    await writeFile(path.join(top, '.ci', 'apt-packages-build.txt'), `# build\n${build.join('\n')}\n`);
    await writeFile(path.join(top, '.ci', 'apt-packages.txt'), `# test\n${test.join('  # comment\n')}\n`);
    await writeFile(path.join(top, 'package-lock.json'), '{}\n');
    await writeFile(path.join(top, 'node_modules', '.package-lock.json'), '{}\n');
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(top, 'node_modules', '.package-lock.json'), later, later);
    await execa('chmod', ['-R', 'a+rX', top]);
    return top;
  }

  const run = (top: string, mode: string, asNobody = false) =>
    execa(asNobody ? 'setpriv' : 'bash', [...(asNobody ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'bash'] : []), path.join(top, 'scripts', 'setup.sh'), mode], {
      reject: false,
      stdin: 'ignore',
    });

  it('says nothing and does nothing when every package is installed and node_modules is current', async () => {
    const top = await checkout('present', ['bash'], ['coreutils']);
    for (const mode of ['build', 'test']) {
      for (const nobody of [false, true]) {
        const r = await run(top, mode, nobody);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stdout + r.stderr).toBe('');
      }
    }
  });

  it('without root, names the missing packages and prints the exact apt-get command; `build` ignores the test list', async () => {
    const top = await checkout('missing', ['bash', 'stigmer-e2e-no-such-package'], ['coreutils', 'stigmer-e2e-test-only-package']);
    const test = await run(top, 'test', true);
    expect(test.exitCode).toBe(1);
    expect(test.stderr).toContain('setup: missing Debian package(s): stigmer-e2e-no-such-package stigmer-e2e-test-only-package');
    expect(test.stderr).toContain('  sudo apt-get update && sudo apt-get install -y --no-install-recommends stigmer-e2e-no-such-package stigmer-e2e-test-only-package');
    const build = await run(top, 'build', true);
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toContain('sudo apt-get install -y --no-install-recommends stigmer-e2e-no-such-package');
    expect(build.stderr).not.toContain('test-only');
  });

  it('refuses an unknown mode with its usage', async () => {
    const r = await run(await checkout('usage', ['bash'], []), 'install');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/usage: .*setup\.sh build\|test/);
  });

  it('leaves a node_modules that is a symbolic link alone (git worktrees sharing one install)', async () => {
    const top = await checkout('linked', ['bash'], []);
    await rm(path.join(top, 'node_modules'), { recursive: true });
    await symlink(path.join(dir, 'elsewhere'), path.join(top, 'node_modules'));
    const r = await run(top, 'build');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  });
});
