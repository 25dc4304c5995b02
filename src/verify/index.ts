// `stigmer-dist verify`: runs the platforms' own checkers over a built dist/<version>/ and reports one table
// (check, artifact, result, detail). Packages are checked as shipped: maintainer scripts and units are taken
// out of the built .deb/.rpm, not from the templates.
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { makeTempDir } from '../util/cleanup.ts';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import { readManifestIfPresent, type BuildManifest } from '../manifest/manifest.ts';
import type { Product } from '../product/model.ts';
import { aptKeyringName, APT_REPO_DIR } from '../targets/apt-repo/index.ts';
import { renderRpmlintConfig } from '../targets/rpm/spec.ts';
import { rpmKeyName, YUM_REPO_DIR } from '../targets/yum-repo/index.ts';
import { CHECKSUMS_SIGNATURE_FILE, releaseKeyFile } from '../targets/release.ts';
import { filesBelow } from '../util/fsx.ts';
import { authenticodeCa, checkAuthenticode } from './authenticode.ts';
import type { Reporter } from '../util/progress.ts';
import {
  checkAptRepo,
  checkDebInfo,
  checkLintian,
  checkPlist,
  checkRpmlint,
  releaseKeyRpmEnv,
  checkRpmQuery,
  checkRuby,
  checkShellcheck,
  checkUnits,
  checkYumRepo,
  debScripts,
  unitFiles,
  type CheckEnv,
  type CheckRow,
} from './checks.ts';

import { trustRows, type TrustOptions } from './trust.ts';

export type { CheckRow } from './checks.ts';

export async function runVerify(opts: { dir: string; product: Product; report: Reporter; authenticodeCa?: string; trust?: TrustOptions }): Promise<CheckRow[]> {
  const { dir, product, report } = opts;
  if (!existsSync(dir)) {
    throw new UserError(`nothing to verify: ${dir} does not exist`, { hint: 'run `stigmer-dist build` first, or pass --out/--version of an existing build', exitCode: EXIT.config });
  }
  // A folder stigmer-dist did not build has no manifest: its files are still checked, by their names.
  const record: Partial<BuildManifest> = (await readManifestIfPresent(dir)) ?? {};
  if (record.product && record.product !== product.meta.name) {
    throw new UserError(`${dir} was built for "${record.product}", but the definition is "${product.meta.name}"`, { hint: 'pass the definition it was built from with --config', exitCode: EXIT.usage });
  }

  const tmpDir = await makeTempDir('sd-verify-');
  const tmp = tmpDir.path;
  const env: CheckEnv = { dir, tmp };
  const rows: CheckRow[] = [];
  const add = (r: CheckRow | CheckRow[]) => {
    for (const row of Array.isArray(r) ? r : [r]) {
      rows.push(row);
      report.progress(`${row.check} ${row.artifact}: ${row.ok ? 'ok' : 'FAIL'}`);
    }
  };
  try {
    // The repository tree holds copies of the packages: checked as repositories, not again one by one.
    const files = await filesBelow(dir, { skip: (f) => f.startsWith('repo/') });
    const roles = new Map((record.artifacts ?? []).map((a) => [a.path, a.role]));
    const releaseAssets = new Set((record.artifacts ?? []).filter((a) => a.release).map((a) => a.path));
    const abs = (p: string) => path.join(dir, p);
    let packageRoot: string | undefined;

    // Debian packages: control and contents, lintian, maintainer scripts, the units they ship.
    for (const deb of files.filter((f) => f.endsWith('.deb'))) {
      const { row, facts } = await checkDebInfo(env, abs(deb), record.versions?.debian);
      add(row);
      if (!facts) continue;
      add(await checkLintian(env, abs(deb)));
      for (const s of await debScripts(env, abs(deb))) add(await checkShellcheck(env, `${deb}:${s.name}`, s.file));
      if (facts.root) {
        packageRoot ??= facts.root;
        for (const unitDir of ['usr/lib/systemd/system', 'lib/systemd/system']) {
          const units = await unitFiles(path.join(facts.root, unitDir));
          if (units.length) add(await checkUnits(env, `${deb}:/${unitDir}`, units, { scope: 'system', root: facts.root, stubs: false }));
        }
      }
    }

    // RPM packages: query and scriptlets, rpmlint with the definition's expected findings, the units they ship.
    // The unsigned intermediates (what the join signs) are the same package: checked once, as the signed asset.
    const rpms = files.filter((f) => f.endsWith('.rpm') && (releaseAssets.has(f) || !roles.has(f)));
    let rpmlintConfig: string | undefined;
    // The packages' signatures are checked against the release key the dist exports (an unsigned build has none).
    let keyEnv: Record<string, string> | undefined;
    if (rpms.length) {
      rpmlintConfig = path.join(tmp, 'rpmlint.toml');
      await writeFile(rpmlintConfig, renderRpmlintConfig(product));
      const key = [releaseKeyFile(product, true), `${YUM_REPO_DIR}/${rpmKeyName(product.meta.name)}`].map(abs).find((f) => existsSync(f));
      if (key) keyEnv = await releaseKeyRpmEnv(path.join(tmp, 'rpm-home'), key);
    }
    for (const rpm of rpms) {
      const q = await checkRpmQuery(env, abs(rpm), record.versions?.rpm);
      add(q.row);
      if (!q.row.ok && !q.scripts.length) continue;
      add(await checkRpmlint(env, abs(rpm), rpmlintConfig, keyEnv));
      for (const s of q.scripts) add(await checkShellcheck(env, `${rpm}:${s.name}`, s.file, ['SC2086']));
      if (q.root) {
        packageRoot ??= q.root;
        for (const unitDir of ['usr/lib/systemd/system', 'lib/systemd/system']) {
          const units = await unitFiles(path.join(q.root, unitDir));
          if (units.length) add(await checkUnits(env, `${rpm}:/${unitDir}`, units, { scope: 'system', root: q.root, stubs: false }));
        }
      }
    }

    // Loose units (system and per-user): the package's binaries when one was built, else stub executables.
    for (const scope of ['system', 'user'] as const) {
      const units = await unitFiles(abs(`systemd/${scope}`));
      if (units.length) add(await checkUnits(env, `systemd/${scope}/`, units, { scope, root: packageRoot, stubs: true }));
    }

    // Launcher and installer scripts, launchd plists, Homebrew formulae.
    const isScript = (f: string) => f.endsWith('.sh') || roles.get(f) === 'installer' || (f.startsWith('scripts/') && readFileSync(abs(f), 'utf8').startsWith('#!/bin/sh'));
    for (const f of files.filter((x) => isScript(x) && !x.endsWith('.ps1'))) add(await checkShellcheck(env, f, abs(f)));
    for (const f of files.filter((x) => x.endsWith('.plist'))) add(await checkPlist(env, abs(f)));
    for (const f of files.filter((x) => x.endsWith('.rb'))) add(await checkRuby(env, abs(f)));

    // The repositories: signatures and indexes as a client checks them.
    if (existsSync(abs(APT_REPO_DIR))) add(await checkAptRepo(env, abs(APT_REPO_DIR), aptKeyringName(product)));
    if (existsSync(abs(YUM_REPO_DIR))) add(await checkYumRepo(env, abs(YUM_REPO_DIR), rpmKeyName(product.meta.name)));

    // Authenticode: every PE in the Windows zips and every MSI.
    const ca = authenticodeCa({ caFile: opts.authenticodeCa, snapshot: record.snapshot });
    add(await checkAuthenticode(env, { zips: files.filter((f) => f.endsWith('.zip')), msis: files.filter((f) => f.endsWith('.msi')) }, ca));
    // The trust chain: the checksums' signature, the SBOM, the sigstore bundle.
    const unsignedByPlan = record.artifacts !== undefined && !record.artifacts.some((a) => a.role === 'signature' && a.path === CHECKSUMS_SIGNATURE_FILE);
    add(await trustRows(dir, tmp, product, { ...opts.trust, unsignedByPlan }));
  } finally {
    report.done();
    await tmpDir.dispose();
  }
  if (!rows.length) throw new UserError(`${dir} holds nothing verify knows how to check`, { hint: 'build it with `stigmer-dist build`', exitCode: EXIT.config });
  return rows;
}

/** One table: CHECK, ARTIFACT, RESULT, DETAIL (the last column is not padded). */
export function formatVerifyTable(rows: CheckRow[]): string {
  const head = ['CHECK', 'ARTIFACT', 'RESULT', 'DETAIL'];
  const cells = rows.map((r) => [r.check, r.artifact, r.ok ? 'ok' : 'FAIL', r.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
