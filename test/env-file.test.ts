// One env-file syntax everywhere: the launchd/Homebrew launcher, under sh and under dash, sets exactly the
// variables systemd's EnvironmentFile= sets for every file of the shared corpus (test/fixtures/env-files):
// the same values, and the same lines refused. systemd itself is checked on the same corpus in
// test/e2e/env-file.test.ts, the Windows service host in winsvc/envfile_test.go.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_LAUNCHER_BODY } from '../src/render/launcher.ts';
import { ENV_CORPUS, setByFile } from './env-corpus.ts';
import { REPO, tempDir } from './helpers.ts';

// /bin/sh is dash on Debian and bash in POSIX mode on macOS (where launchd runs the launcher).
const SHELLS: Record<string, string[]> = { sh: ['sh'], dash: ['dash'], 'bash --posix (macOS /bin/sh)': ['bash', '--posix', '--norc', '--noprofile'] };

async function launch(shell: string, file: string): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...flags] = SHELLS[shell]!;
  const r = await execa(cmd!, [...flags, '-c', ENV_LAUNCHER_BODY, 'launcher', file, '/usr/bin/env', '-0'], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, stripFinalNewline: false, stdin: 'ignore' });
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('env file corpus through the launcher', () => {
  for (const shell of Object.keys(SHELLS)) {
    it(`${shell}: every file sets exactly what systemd sets`, async () => {
      const dir = tempDir();
      const empty = path.join(dir, 'empty.env');
      writeFileSync(empty, '');
      const baseline = (await launch(shell, empty)).stdout;
      for (const c of ENV_CORPUS) {
        const file = path.join(dir, `${c.name}.env`);
        writeFileSync(file, c.content);
        const r = await launch(shell, file);
        expect(setByFile(r.stdout, baseline), c.name).toEqual(c.env);
      }
    });
  }

  it('the Windows service host agrees on the same corpus (go test in winsvc/)', async () => {
    const cache = tempDir('sd-gocache-');
    const r = await execa('go', ['test', '-count=1', '-v', '.'], {
      cwd: path.join(REPO, 'winsvc'),
      env: { GO111MODULE: 'off', GOFLAGS: '', GOTOOLCHAIN: 'local', GOCACHE: cache, GOPATH: path.join(cache, 'gopath') },
      reject: false,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^--- PASS: TestEnvFileCorpus/m);
  });

  it('says which assignments it skips (invalid names: "export X", a byte order mark), never their values', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.env');
    writeFileSync(file, '\ufeffA=secret-one\nexport B=secret-two\nC=ok\n');
    const r = await launch('dash', file);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `launcher: ${file}:1: ignoring an assignment to "\ufeffA": not a valid variable name`,
      `launcher: ${file}:2: ignoring an assignment to "export B": not a valid variable name`,
    ]);
  });
});
