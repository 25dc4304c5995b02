// A YUM/DNF repository: Packages/*.rpm (signed with rpmsign on the way in) + repodata/ from createrepo_c +
// repodata/repomd.xml.asc + the armored public key, so that gpgcheck=1 and repo_gpgcheck=1 both pass. The
// metadata is regenerated from every package in the folder, so the versions published before stay installable.
import { execa } from '../../util/exec.ts';
import { mkdir, open, readdir, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { EXIT, UserError } from '../../errors.ts';
import type { Signer } from '../../signing/gpg.ts';
import { hashFile } from '../../util/fsx.ts';
import type { BuiltFile } from '../types.ts';
import { listFiles, placeInPool, posix } from '../repo-common.ts';

export const CREATEREPO_INSTALL = 'apt-get install createrepo-c';

export interface YumRepoOptions {
  /** Repository root: receives Packages/, repodata/ and RPM-GPG-KEY-<keyName>. May already hold published packages. */
  repoDir: string;
  /** .rpm files to add; copied, then signed in the copy (the originals are left untouched). */
  packages: string[];
  /** An already-published repository root whose .rpm files are merged in (may be repoDir itself). */
  base?: string;
  /** Signs the new RPMs and repomd.xml and exports the key; undefined builds an unsigned repository. */
  signer?: Signer;
  /** The new RPMs already carry this signer's signature (a build's signed release RPMs): placed as they are. */
  packagesSigned?: boolean;
  /** Revision and every timestamp in the metadata; also the mtime given to the pool's files. */
  sourceDateEpoch: number;
  keyName: string;
}

export interface YumRepoResult {
  /** Files written below repoDir (metadata, signature, key, the packages), by relative path. */
  files: Map<string, BuiltFile>;
  /** Relative paths of every package indexed. */
  packages: string[];
}

export const PACKAGES_DIR = 'Packages';
export const rpmKeyName = (name: string) => `RPM-GPG-KEY-${name}`;

async function assertRpm(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    if (magic.toString('hex') !== 'edabeedb') {
      throw new UserError(`${file}: not an RPM package (no RPM lead)`, { hint: 'rebuild it with the rpm target (or rpmbuild), or remove it', exitCode: EXIT.config });
    }
  } finally {
    await fh.close();
  }
}

const isRpm = (n: string) => n.endsWith('.rpm');

export async function buildYumRepo(opts: YumRepoOptions): Promise<YumRepoResult> {
  const { repoDir, signer } = opts;
  const files = new Map<string, BuiltFile>();
  const packagesDir = path.join(repoDir, PACKAGES_DIR);
  await mkdir(packagesDir, { recursive: true });

  // 1. The published packages (when merging from elsewhere), then this build's, signed in a scratch copy first
  //    so the comparison with an already-published file is between final bytes.
  if (opts.base && path.resolve(opts.base) !== path.resolve(repoDir)) {
    for (const src of await listFiles(opts.base, isRpm)) {
      if (path.relative(opts.base, src).split(path.sep).includes('repodata')) continue;
      await assertRpm(src);
      await placeInPool(src, path.join(repoDir, path.relative(opts.base, src)));
    }
  }
  const incoming = path.join(repoDir, '.incoming');
  await rm(incoming, { recursive: true, force: true });
  try {
    for (const src of opts.packages) {
      await assertRpm(src);
      const dest = path.join(packagesDir, path.basename(src));
      if (signer && !opts.packagesSigned) {
        const scratch = path.join(incoming, path.basename(src));
        await placeInPool(src, scratch);
        await signer.signRpm(scratch);
        await placeInPool(scratch, dest);
      } else {
        await placeInPool(src, dest); // already its final bytes: no scratch copy
      }
      files.set(posix(path.relative(repoDir, dest)), await hashFile(dest));
    }
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }

  // 2. Metadata over everything in the folder, with fixed times (createrepo_c records each file's mtime).
  const all = (await listFiles(repoDir, isRpm)).filter((f) => !path.relative(repoDir, f).split(path.sep).includes('repodata'));
  for (const f of all) await utimes(f, opts.sourceDateEpoch, opts.sourceDateEpoch);
  await rm(path.join(repoDir, 'repodata'), { recursive: true, force: true });
  const r = await execa(
    'createrepo_c',
    ['--no-database', '--workers', '1', '--revision', String(opts.sourceDateEpoch), '--set-timestamp-to-revision', repoDir],
    { reject: false, stdin: 'ignore', env: { LC_ALL: 'C.UTF-8' } },
  );
  if ((r as { code?: string }).code === 'ENOENT') throw new UserError('the yum repository needs `createrepo_c`, which is not installed', { hint: `install it: ${CREATEREPO_INSTALL}`, exitCode: EXIT.missingTool });
  if (r.failed) throw new UserError(`createrepo_c ${repoDir} failed: ${String(r.stderr).trim().split('\n').slice(-3).join('; ')}`);
  const repodata = path.join(repoDir, 'repodata');
  for (const f of (await readdir(repodata)).sort()) files.set(`repodata/${f}`, await hashFile(path.join(repodata, f)));

  // 3. repo_gpgcheck: a detached, armored signature of repomd.xml; gpgcheck: the key dnf imports.
  await rm(path.join(repoDir, rpmKeyName(opts.keyName)), { force: true });
  if (signer) {
    files.set('repodata/repomd.xml.asc', await signer.detachSign(path.join(repodata, 'repomd.xml'), path.join(repodata, 'repomd.xml.asc'), true));
    files.set(rpmKeyName(opts.keyName), await signer.exportPublicKey(path.join(repoDir, rpmKeyName(opts.keyName)), true));
  }
  return { files, packages: all.map((f) => posix(path.relative(repoDir, f))) };
}
