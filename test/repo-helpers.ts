// Test fixtures for the repository tests: OpenPGP keys in throwaway homes, packages built with the platforms'
// own tools (dpkg-deb, rpmbuild), and apt/dnf clients confined to a temp dir (never the host's configuration).
import { execa } from 'execa';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { killAgent } from '../src/signing/gpg.ts';

export interface TestKey {
  fingerprint: string;
  /** Armored secret key (what STIGMER_DIST_SIGNING_KEY may hold). */
  armored: string;
  secretFile: string;
  /** Binary public keyring (apt signed-by) and armored public key (rpm/dnf). */
  keyring: string;
  publicAsc: string;
  passphrase?: string;
}

/**
 * Generates a key in its own GNUPGHOME below `dir` and exports it; the agent is stopped afterwards. `algo` and
 * `certDigestAlgo` make the weak keys old gpg versions made (e.g. rsa1024, SHA1 self-signatures).
 */
export async function makeKey(dir: string, name: string, passphrase?: string, opts: { algo?: string; certDigestAlgo?: string } = {}): Promise<TestKey> {
  const home = path.join(dir, `gnupg-${name}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args: string[], input?: string) =>
    execa('gpg', ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', passphrase ?? '', ...args], input === undefined ? { stdin: 'ignore' } : { input });
  try {
    const certDigest = opts.certDigestAlgo ? ['--cert-digest-algo', opts.certDigestAlgo] : [];
    await gpg([...certDigest, '--quick-gen-key', `${name} test key <${name}@example.com>`, opts.algo ?? 'rsa3072', 'sign', 'never']);
    const list = await gpg(['--with-colons', '--list-secret-keys']);
    const fingerprint = list.stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
    const armored = (await gpg(['--armor', '--export-secret-keys', fingerprint])).stdout + '\n';
    const secretFile = path.join(dir, `${name}.secret.asc`);
    writeFileSync(secretFile, armored, { mode: 0o600 });
    const keyring = path.join(dir, `${name}.gpg`);
    const publicAsc = path.join(dir, `${name}.pub.asc`);
    await execa('gpg', ['--homedir', home, '--batch', '--yes', '--output', keyring, '--export', fingerprint]);
    await execa('gpg', ['--homedir', home, '--batch', '--yes', '--armor', '--output', publicAsc, '--export', fingerprint]);
    return { fingerprint, armored, secretFile, keyring, publicAsc, passphrase };
  } finally {
    await killAgent(home);
  }
}

/** A minimal .deb built by dpkg-deb (control member compressed with `compression`). */
export async function makeDeb(
  dir: string,
  opts: { name: string; version: string; arch: string; compression?: 'gzip' | 'xz' | 'zstd'; marker?: string },
): Promise<string> {
  const root = path.join(dir, `deb-${opts.name}-${opts.version}-${opts.arch}-${opts.marker ?? ''}`);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(root, 'usr/share', opts.name), { recursive: true });
  writeFileSync(path.join(root, 'usr/share', opts.name, 'version'), `${opts.version} ${opts.marker ?? ''}\n`);
  writeFileSync(
    path.join(root, 'DEBIAN/control'),
    [
      `Package: ${opts.name}`,
      `Version: ${opts.version}`,
      `Architecture: ${opts.arch}`,
      'Maintainer: Repo Tests <tests@example.com>',
      'Section: utils',
      'Priority: optional',
      'Description: fixture package for the repository tests',
      ' Installs one small file so apt has something to fetch.',
      ' .',
      ' Second paragraph of the long description.',
      '',
    ].join('\n'),
  );
  const out = path.join(dir, `${opts.name}_${opts.version}_${opts.arch}${opts.marker ? `-${opts.marker}` : ''}.deb`);
  await execa('dpkg-deb', ['--root-owner-group', `-Z${opts.compression ?? 'xz'}`, '--build', root, out], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  return out;
}

/** A minimal noarch-free RPM built by rpmbuild (x86_64 or aarch64), unsigned. */
export async function makeRpm(dir: string, opts: { name: string; version: string; release?: string; arch?: string }): Promise<string> {
  const top = path.join(dir, `rpmbuild-${opts.name}-${opts.version}`);
  mkdirSync(top, { recursive: true });
  const spec = path.join(top, `${opts.name}.spec`);
  writeFileSync(
    spec,
    [
      `Name: ${opts.name}`,
      `Version: ${opts.version}`,
      `Release: ${opts.release ?? '1'}`,
      'Summary: Fixture package for the repository tests',
      'License: Apache-2.0',
      '%global _build_id_links none',
      '%global debug_package %{nil}',
      '%global __os_install_post %{nil}',
      '%description',
      'Installs one small file so dnf has something to fetch.',
      '%install',
      `mkdir -p %{buildroot}/usr/share/${opts.name}`,
      `echo ${opts.version} > %{buildroot}/usr/share/${opts.name}/version`,
      '%files',
      `/usr/share/${opts.name}/version`,
      '',
    ].join('\n'),
  );
  const arch = opts.arch ?? 'x86_64';
  await execa('rpmbuild', ['-bb', '--target', arch, '--define', `_topdir ${top}`, '--define', 'source_date_epoch_from_changelog 0', spec], {
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  });
  const rpmDir = path.join(top, 'RPMS', arch);
  const file = readdirSync(rpmDir).find((f) => f.endsWith('.rpm'))!;
  return path.join(rpmDir, file);
}

/** apt-get / apt-cache confined to `dir`: its own sources, state, cache and (empty) trusted keys. */
export function aptClient(dir: string, sourcesLine: string, arch = 'amd64') {
  for (const d of ['etc/sources.list.d', 'etc/trusted.gpg.d', 'etc/preferences.d', 'etc/apt.conf.d', 'state/lists/partial', 'cache/archives/partial']) {
    mkdirSync(path.join(dir, d), { recursive: true });
  }
  writeFileSync(path.join(dir, 'status'), '');
  writeFileSync(path.join(dir, 'etc/sources.list'), `${sourcesLine}\n`);
  const opts = [
    `Dir::Etc::sourcelist=${dir}/etc/sources.list`,
    `Dir::Etc::sourceparts=${dir}/etc/sources.list.d`,
    `Dir::Etc::trusted=${dir}/etc/trusted.gpg`,
    `Dir::Etc::trustedparts=${dir}/etc/trusted.gpg.d`,
    `Dir::Etc::preferences=${dir}/etc/preferences`,
    `Dir::Etc::preferencesparts=${dir}/etc/preferences.d`,
    `Dir::State=${dir}/state`,
    `Dir::State::status=${dir}/status`,
    `Dir::Cache=${dir}/cache`,
    'Debug::NoLocking=1',
    'APT::Sandbox::User=root',
    `APT::Architecture=${arch}`,
    `APT::Architectures=${arch}`,
    'Acquire::Languages=none',
  ].flatMap((o) => ['-o', o]);
  const run = (cmd: 'apt-get' | 'apt-cache', args: string[]) =>
    execa(cmd, [...opts, ...args], { reject: false, stdin: 'ignore', env: { LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' } });
  return {
    update: () => run('apt-get', ['update']),
    policy: (pkg: string) => run('apt-cache', ['policy', pkg]),
    madison: (pkg: string) => run('apt-cache', ['madison', pkg]),
    downloadOnly: (spec: string) => run('apt-get', ['install', '-y', '--download-only', spec]),
  };
}

/** dnf confined to `dir` (installroot, reposdir, cachedir, config); stops the gpg-agents dnf leaves behind. */
export function dnfClient(dir: string, repoFile: string) {
  const reposd = path.join(dir, 'yum.repos.d');
  const root = path.join(dir, 'root');
  const cache = path.join(dir, 'cache');
  for (const d of [reposd, root, cache]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(reposd, 'test.repo'), repoFile);
  const conf = path.join(dir, 'dnf.conf');
  writeFileSync(conf, '[main]\ninstall_weak_deps=False\nkeepcache=False\n');
  const run = async (args: string[]) => {
    try {
      return await execa(
        'dnf',
        ['-y', `--config=${conf}`, `--installroot=${root}`, `--setopt=reposdir=${reposd}`, `--setopt=cachedir=${cache}`, '--releasever=1', '--disableplugin=*', ...args],
        { reject: false, stdin: 'ignore', env: { LC_ALL: 'C.UTF-8' } },
      );
    } finally {
      await stopDnfAgents(cache);
    }
  };
  return { root, makecache: () => run(['makecache']), install: (spec: string) => run(['install', spec]), clean: () => run(['clean', 'all']) };
}

async function stopDnfAgents(cache: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = readdirSync(cache, { recursive: true, encoding: 'utf8' });
  } catch {
    return;
  }
  for (const e of entries) if (path.basename(e) === 'pubring') await killAgent(path.join(cache, e));
}
