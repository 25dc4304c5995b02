// The Debian maintainer scripts run for real, against stub commands that log their arguments (PATH holds only
// the stubs, so nothing on this machine is touched): the dpkg call sequences of install, upgrade, remove and
// purge, each run twice to show they are idempotent.
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import { renderMaintainerScripts } from '../src/targets/deb/metadata.ts';
import { STIGMER_YAML, tempDir } from './helpers.ts';

// mkdir and grep run for real, inside DPKG_ROOT (the sandbox): they keep the record of what the package created.
const REAL = ['mkdir', 'grep'];
const COMMANDS = [...REAL, 'systemd-sysusers', 'getent', 'groupadd', 'useradd', 'dpkg-statoverride', 'chgrp', 'chmod', 'deb-systemd-helper', 'deb-systemd-invoke', 'systemctl', 'rm', 'rmdir', 'userdel', 'groupdel', 'chown', 'tee', 'tr', 'ls', 'cp', 'mv', 'mktemp'];
// Where systemd runs (a CI runner may boot with it), the scripts also reload and start: the assertions follow.
const SYSTEMD = existsSync('/run/systemd/system');

function sandbox(opts: { omit?: string[] } = {}) {
  const dir = tempDir('sd-maint-');
  const bin = path.join(dir, 'bin');
  const state = path.join(dir, 'state');
  const root = path.join(dir, 'root');
  mkdirSync(bin);
  mkdirSync(state);
  mkdirSync(root);
  const stub = path.join(dir, 'stub');
  // getent knows the account once sysusers or useradd "created" it; deb-systemd-helper reports a first install.
  writeFileSync(
    stub,
    `#!/bin/sh
name=$(/usr/bin/basename "$0")
case "$name" in ${REAL.join('|')}) PATH=/usr/bin:/bin exec "$name" "$@" ;; esac
echo "$name $*" >> "${dir}/log"
case "$name" in
systemd-sysusers) /bin/cat > "${state}/sysusers-input"; /usr/bin/touch "${state}/account" ;;
useradd) /usr/bin/touch "${state}/account" ;;
getent) [ -e "${state}/account" ] || exit 2 ;;
dpkg-statoverride) exit 1 ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  for (const c of COMMANDS.filter((x) => !opts.omit?.includes(x))) symlinkSync(stub, path.join(bin, c));
  const scripts = renderMaintainerScripts(loadProduct(STIGMER_YAML));
  for (const [name, text] of Object.entries(scripts)) writeFileSync(path.join(dir, name), text, { mode: 0o755 });
  const run = async (script: 'postinst' | 'prerm' | 'postrm', ...args: string[]) => {
    writeFileSync(path.join(dir, 'log'), '');
    const r = await execa('/bin/sh', [path.join(dir, script), ...args], { env: { PATH: bin, DPKG_ROOT: root }, extendEnv: false, reject: false });
    expect(r.exitCode, `${script} ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n').filter(Boolean);
  };
  return { run, state, root };
}

const ALL = 'stigmer.target stigmer-temporal.service stigmer-server.service workflow-runner.service agent-runner.service';

describe('deb maintainer scripts against stub commands', () => {
  it('first install creates the account from the sysusers.d entry, then enables (and where systemd runs, starts) the target', async () => {
    const { run, state, root } = sandbox();
    const calls = await run('postinst', 'configure', '');
    // The record of what the package creates is taken first (getent), then the account is created.
    expect(calls.slice(0, 3)).toEqual(['getent passwd stigmer', 'getent group stigmer', 'systemd-sysusers --replace=/usr/lib/sysusers.d/stigmer.conf -']);
    expect(readFileSync(path.join(state, 'sysusers-input'), 'utf8')).toBe('g stigmer -\nu stigmer -:stigmer "Stigmer services" /var/lib/stigmer /usr/sbin/nologin\n');
    expect(calls).not.toContain(expect.stringMatching(/^(groupadd|useradd)/));
    expect(calls).toEqual(
      expect.arrayContaining([
        'deb-systemd-helper unmask stigmer.target',
        'deb-systemd-helper --quiet was-enabled stigmer.target',
        'deb-systemd-helper enable stigmer.target',
      ]),
    );
    expect(calls.some((c) => c.startsWith('deb-systemd-invoke start stigmer.target'))).toBe(SYSTEMD);
    // The upstream Temporal's state directory records the version it is for (an upgrade to another backs it up).
    // (mkdir runs for real inside DPKG_ROOT.)
    expect(existsSync(path.join(root, 'var/lib/stigmer/stigmer-temporal'))).toBe(true);
    expect(calls.filter((c) => /^(chown|tee|cp|mv)/.test(c))).toEqual([
      `chown stigmer:stigmer ${root}/var/lib/stigmer/stigmer-temporal`,
      `tee ${root}/var/lib/stigmer/stigmer-temporal/.upstream-version`,
    ]);
    expect(calls.filter((c) => /^systemctl (enable|start)/.test(c))).toEqual([]);
  });

  it('falls back to groupadd/useradd without systemd-sysusers, and a second run changes nothing', async () => {
    const { run } = sandbox({ omit: ['systemd-sysusers'] });
    const first = await run('postinst', 'configure', '');
    expect(first.filter((c) => /^(groupadd|useradd)/.test(c))).toEqual([
      'groupadd --system stigmer',
      'useradd --system --gid stigmer --home-dir /var/lib/stigmer --no-create-home --shell /usr/sbin/nologin --comment Stigmer services stigmer',
    ]);
    const again = await run('postinst', 'configure', '');
    expect(again.filter((c) => /^(groupadd|useradd)/.test(c))).toEqual([]);
  });

  it('upgrade restarts the target and the services on the new binaries (where systemd runs); prerm upgrade stops nothing', async () => {
    const { run } = sandbox();
    expect(await run('prerm', 'upgrade', '1.2.4-1')).toEqual([]);
    const calls = await run('postinst', 'configure', '1.2.2-1');
    expect(calls.includes(`deb-systemd-invoke restart ${ALL}`)).toBe(SYSTEMD);
    expect(await run('postrm', 'upgrade', '1.2.4-1')).toEqual([]);
  });

  it('remove stops (where systemd runs) and disables, keeping configuration, data and the account', async () => {
    const { run } = sandbox();
    const prerm = await run('prerm', 'remove');
    expect(prerm).toEqual(SYSTEMD ? [`deb-systemd-invoke stop ${ALL}`] : []);
    for (let i = 0; i < 2; i++) {
      const postrm = await run('postrm', 'remove');
      expect(postrm.filter((c) => !c.startsWith('systemctl'))).toEqual(['deb-systemd-helper purge stigmer.target']);
    }
  });

  it('purge removes the config directory once empty, and the state, logs and account the package created; safe to repeat', async () => {
    const { run, root } = sandbox();
    await run('postinst', 'configure', '');
    expect(readFileSync(path.join(root, 'var/lib/stigmer.package/created'), 'utf8')).toBe('user\ngroup\n/var/lib/stigmer\n/var/log/stigmer\n');
    const calls = await run('postrm', 'purge');
    expect(calls.filter((c) => !c.startsWith('systemctl') && !c.startsWith('getent'))).toEqual([
      'deb-systemd-helper purge stigmer.target',
      'rm -f /etc/stigmer/stigmer.env.dpkg-old /etc/stigmer/stigmer.env.dpkg-dist /etc/stigmer/stigmer.env.dpkg-new /etc/stigmer/stigmer.env.dpkg-tmp',
      'rmdir /etc/stigmer',
      'rm -rf /var/lib/stigmer',
      'rm -rf /var/log/stigmer',
      'userdel stigmer',
      'groupdel stigmer',
      `rm -f ${root}/var/lib/stigmer.package/created`,
      `rmdir ${root}/var/lib/stigmer.package`,
    ]);
    await run('postrm', 'purge');
  });

  it('purge keeps an account and directories that existed before the package, and an upgrade keeps the first record', async () => {
    const { run, state, root } = sandbox();
    writeFileSync(path.join(state, 'account'), '');
    mkdirSync(path.join(root, 'var/lib/stigmer'), { recursive: true });
    mkdirSync(path.join(root, 'var/log/stigmer'), { recursive: true });
    await run('postinst', 'configure', '');
    await run('postinst', 'configure', '1.2.2-1');
    expect(readFileSync(path.join(root, 'var/lib/stigmer.package/created'), 'utf8')).toBe('');
    const calls = await run('postrm', 'purge');
    expect(calls.filter((c) => /^(rm -rf|userdel|groupdel)/.test(c))).toEqual([]);
  });

  it('purge without a record (installed by an older version) removes nothing it cannot prove it made', async () => {
    const { run, state } = sandbox();
    writeFileSync(path.join(state, 'account'), '');
    const calls = await run('postrm', 'purge');
    expect(calls.filter((c) => /^(rm -rf|userdel|groupdel)/.test(c))).toEqual([]);
  });

  it('ignores the calls it has nothing to do for', async () => {
    const { run } = sandbox();
    expect(await run('postinst', 'triggered', 'x')).toEqual([]);
    expect(await run('prerm', 'deconfigure')).toEqual([]);
    expect(await run('postrm', 'disappear')).toEqual([]);
    expect(await run('postrm', 'abort-install')).toEqual([]);
  });
});
