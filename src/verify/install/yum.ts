// `verify --install`: the signed YUM repository, as a Fedora/RHEL user meets it, in the booted Debian root.
// Debian's dnf installs the build's package from the repository served on loopback into an empty installroot,
// with the client .repo file the build publishes (gpgcheck=1: the package's signature; repo_gpgcheck=1:
// repomd.xml's signature, with the key from the repository's gpgkey URL). The scriptlets are not run there
// (the installroot has no shell or systemd): the .rpm's own rows ran them in the booted system.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Product } from '../../product/model.ts';
import { renderYumRepoFile, rpmKeyName, YUM_REPO_DIR } from '../../targets/yum-repo/index.ts';
import type { Reporter } from '../../util/progress.ts';
import type { StaticServer } from './http.ts';
import type { Container } from './nspawn.ts';
import { rowInContainer, type Run } from './probe.ts';
import { StepFailure, type InstallRow } from './steps.ts';

/** The artifact column of the repository's rows. */
export const YUM_ARTIFACT = `${YUM_REPO_DIR}/`;
const WORK = '/var/tmp/verify-install/yum';
const INSTALL_ROOT = `${WORK}/root`;

export interface YumVerifyOptions {
  c: Container;
  /** Serves the repository tree (the folder holding yum/) into the container. */
  server: StaticServer;
  repoTree: string;
  product: Product;
  /** Host path of the .rpm the repository must deliver (name and version are read from it). */
  rpm: string;
  /** debian-12, debian-13: the row's platform, and dnf's $releasever. */
  distro: string;
  logDir: string;
  report: Reporter;
}

export async function verifyYumRepo(opts: YumVerifyOptions): Promise<InstallRow[]> {
  const { c, product, server } = opts;
  const { steps, run } = rowInContainer(c, YUM_ARTIFACT, opts);
  const yumDir = path.join(opts.repoTree, path.basename(YUM_REPO_DIR));
  const yumUrl = `${server.url}/${path.basename(YUM_REPO_DIR)}`;
  const releasever = opts.distro.replace(/^\D+/, '') || '1';
  const dnf = (args: string[]) =>
    run([
      'dnf',
      '--assumeyes',
      `--installroot=${INSTALL_ROOT}`,
      `--releasever=${releasever}`,
      `--setopt=reposdir=${INSTALL_ROOT}/etc/yum.repos.d`,
      '--setopt=tsflags=noscripts',
      ...args,
    ]);
  let pkg = '';
  let want = '';

  await steps.step('dnf repository', async () => {
    server.root = opts.repoTree;
    if (!existsSync(path.join(yumDir, rpmKeyName(product.meta.name))) || !existsSync(path.join(yumDir, 'repodata', 'repomd.xml.asc'))) {
      throw new StepFailure(`${yumDir} has no ${rpmKeyName(product.meta.name)} or no repodata/repomd.xml.asc: the repository is unsigned (built with --unsigned), which a release must not be`);
    }
    await c.copyIn(opts.rpm, `${WORK}/package.rpm`);
    const query = (format: string) => run(['rpm', '-qp', '--queryformat', format, `${WORK}/package.rpm`]).then((r) => r.stdout.trim());
    pkg = await query('%{NAME}');
    want = await query('%{VERSION}-%{RELEASE}');
    await prepareInstallRoot(c, run, pkg, `${WORK}/package.rpm`);
    const repoFile = renderYumRepoFile(product, yumUrl, true);
    await c.writeFile(`${INSTALL_ROOT}/etc/yum.repos.d/${product.meta.name}.repo`, repoFile);
    // makecache fetches repomd.xml and checks its signature (repo_gpgcheck) with the key from gpgkey=.
    await dnf(['makecache']);
    return `${yumUrl} with the published .repo file (gpgcheck=1, repo_gpgcheck=1): repomd.xml signature verified`;
  });
  await steps.step('dnf install', async () => {
    const r = await dnf(['install', pkg]);
    const out = `${r.stdout}\n${r.stderr}`;
    if (/GPG check FAILED|is not signed|signature.*(bad|invalid)/i.test(out)) throw new StepFailure(`dnf install ${pkg}: ${out.split('\n').find((l) => /GPG|signed|signature/i.test(l))}`);
    const installed = (await run(['rpm', '--root', INSTALL_ROOT, '-q', '--queryformat', '%{VERSION}-%{RELEASE}', pkg])).stdout.trim();
    if (installed !== want) throw new StepFailure(`dnf installed ${pkg} ${installed}, not the build's ${want}`);
    return `${pkg}-${want} into an installroot, package signature checked (gpgcheck=1)`;
  });
  return steps.rows;
}

/**
 * An empty rpm database in the installroot, plus one package that provides what `pkg` requires from the base
 * system (/bin/sh and the like): a stand-in for the distribution's own packages, so dnf can resolve it.
 */
async function prepareInstallRoot(c: Container, run: Run, pkg: string, rpmFile: string): Promise<void> {
  await run(['rm', '-rf', INSTALL_ROOT]);
  await run(['rpm', '--root', INSTALL_ROOT, '--initdb']);
  const requires = (await run(['rpm', '-qp', '--requires', rpmFile])).stdout
    .split('\n')
    .map((l) => l.trim())
    // The name alone: an unversioned Provides satisfies any version; rpmlib() and the package's own config() are rpm's.
    .map((l) => l.split(/\s+/)[0]!)
    .filter((r) => r && !r.startsWith('rpmlib(') && r !== `config(${pkg})` && r !== pkg);
  const name = 'verify-install-base-system';
  const spec = [
    `Name: ${name}`,
    'Version: 1',
    'Release: 1',
    'Summary: Stands in for the base system in an empty dnf installroot',
    'License: MIT',
    'BuildArch: noarch',
    ...[...new Set(requires)].map((r) => `Provides: ${r}`),
    '',
    '%description',
    'What the package under test requires from the distribution.',
    '',
    '%files',
    '',
  ].join('\n');
  await c.writeFile(`${WORK}/rpmbuild/SPECS/${name}.spec`, spec);
  await run(['rpmbuild', '-bb', '--define', `_topdir ${WORK}/rpmbuild`, `${WORK}/rpmbuild/SPECS/${name}.spec`]);
  await run(['rpm', '--root', INSTALL_ROOT, '--install', '--justdb', '--nodeps', `${WORK}/rpmbuild/RPMS/noarch/${name}-1-1.noarch.rpm`]);
}
