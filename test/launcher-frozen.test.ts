// The launchd / Homebrew launcher clears stale PyInstaller unpack folders (_MEI*) of a frozen service in that
// service's own TMPDIR before it execs, and touches nothing else. Run for real with /bin/sh and shellcheck.
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_LAUNCHER_SCRIPT, FROZEN_TMPDIR_VAR } from '../src/render/launcher.ts';
import { tempDir } from './helpers.ts';

function launcher(dir: string): string {
  const file = path.join(dir, 'launcher');
  writeFileSync(file, ENV_LAUNCHER_SCRIPT, { mode: 0o755 });
  return file;
}

describe('launcher: stale unpack folders of a frozen service', () => {
  it('removes _MEI* folders in the frozen service TMPDIR, keeps other files, and does not pass the marker on', async () => {
    const dir = tempDir();
    const tmp = path.join(dir, 'run', 'tmp');
    mkdirSync(path.join(tmp, '_MEI123456', 'lib'), { recursive: true });
    mkdirSync(path.join(tmp, '_MEIabcdef'));
    writeFileSync(path.join(tmp, 'keep.txt'), 'x');
    const r = await execa(launcher(dir), [path.join(dir, 'no-env-file'), '/bin/sh', '-c', `ls -A "$TMPDIR"; echo "marker=\${${FROZEN_TMPDIR_VAR}:-unset}"`], {
      env: { PATH: '/usr/bin:/bin', TMPDIR: tmp, [FROZEN_TMPDIR_VAR]: tmp },
      extendEnv: false,
    });
    expect(r.stdout.split('\n')).toEqual(['keep.txt', 'marker=unset']);
  });

  it('creates the TMPDIR when missing', async () => {
    const dir = tempDir();
    const tmp = path.join(dir, 'fresh', 'tmp');
    await execa(launcher(dir), [path.join(dir, 'no-env-file'), '/bin/true'], { env: { PATH: '/usr/bin:/bin', TMPDIR: tmp, [FROZEN_TMPDIR_VAR]: tmp }, extendEnv: false });
    expect(existsSync(tmp)).toBe(true);
  });

  it('leaves a TMPDIR alone when the service is not frozen (no marker): it may be shared', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, '_MEI999999'));
    await execa(launcher(dir), [path.join(dir, 'no-env-file'), '/bin/true'], { env: { PATH: '/usr/bin:/bin', TMPDIR: dir }, extendEnv: false });
    expect(readdirSync(dir).sort()).toEqual(['_MEI999999', 'launcher']);
  });

  it('is shellcheck-clean', async () => {
    const dir = tempDir();
    const r = await execa('shellcheck', ['--shell=sh', '--severity=style', launcher(dir)], { reject: false });
    expect(r.exitCode, r.stdout).toBe(0);
  });
});
