// The individual checks `stigmer-dist verify` runs on a built dist/<version>/, each with the platform's own
// tool. Every check returns rows; a missing tool is a failed row that names the install command.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as plist from 'plist';
import { hasTool } from '../util/exec.ts';
import { hashFile, sha256Hex } from '../util/fsx.ts';

export interface CheckRow {
  check: string;
  artifact: string;
  ok: boolean;
  detail: string;
}

export interface CheckEnv {
  /** dist/<version>/ */
  dir: string;
  /** Scratch space for extractions, removed by the caller. */
  tmp: string;
}

export const INSTALL: Record<string, string> = {
  'dpkg-deb': 'apt-get install dpkg',
  lintian: 'apt-get install lintian',
  rpm: 'apt-get install rpm',
  rpmlint: 'apt-get install rpmlint',
  rpm2cpio: 'apt-get install rpm',
  cpio: 'apt-get install cpio',
  shellcheck: 'apt-get install shellcheck',
  'systemd-analyze': 'apt-get install systemd',
  plistutil: 'apt-get install libplist-utils',
  ruby: 'apt-get install ruby',
  gpg: 'apt-get install gnupg',
  gpgv: 'apt-get install gpgv',
};

/** The tools missing from this host, as a failed row (or undefined when all are there). */
export function missingTools(check: string, artifact: string, tools: string[]): CheckRow | undefined {
  const missing = tools.filter((t) => !hasTool(t));
  if (!missing.length) return undefined;
  return { check, artifact, ok: false, detail: `\`${missing.join('`, `')}\` not installed: ${[...new Set(missing.map((m) => INSTALL[m] ?? m))].join(' && ')}` };
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  const r = await execa(cmd, args, { reject: false, stdin: 'ignore', cwd: opts.cwd, env: { LC_ALL: 'C.UTF-8', ...opts.env } });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** First few meaningful lines of a tool's output, for the DETAIL column. */
function summary(text: string, max = 4): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(0, max).join(' | ') + (lines.length > max ? ` | (+${lines.length - max} more)` : '');
}

const rel = (env: CheckEnv, p: string) => path.relative(env.dir, p) || '.';

// ---------------------------------------------------------------------------------------------- .deb

export interface DebFacts {
  package: string;
  version: string;
  architecture: string;
  /** Extracted data.tar (dpkg-deb -x), for the unit checks. */
  root?: string;
}

export async function checkDebInfo(env: CheckEnv, deb: string, expectVersion?: string): Promise<{ row: CheckRow; facts?: DebFacts }> {
  const artifact = rel(env, deb);
  const missing = missingTools('dpkg-deb', artifact, ['dpkg-deb']);
  if (missing) return { row: missing };
  const info = await run('dpkg-deb', ['--info', deb]);
  const contents = await run('dpkg-deb', ['--contents', deb]);
  if (info.code !== 0 || contents.code !== 0) return { row: { check: 'dpkg-deb', artifact, ok: false, detail: summary(`${info.stderr}\n${contents.stderr}`) } };
  const field = (n: string) => new RegExp(`^ ${n}: (.*)$`, 'm').exec(info.stdout)?.[1]?.trim() ?? '';
  const facts: DebFacts = { package: field('Package'), version: field('Version'), architecture: field('Architecture') };
  const files = contents.stdout.split('\n').filter((l) => l && !l.startsWith('d')).length;
  const problems: string[] = [];
  if (!facts.package || !facts.version || !facts.architecture) problems.push('control lacks Package, Version or Architecture');
  if (expectVersion && facts.version !== expectVersion) problems.push(`Version ${facts.version}, but this build is ${expectVersion}`);
  const root = path.join(env.tmp, `deb-${path.basename(deb)}`);
  const x = await run('dpkg-deb', ['-x', deb, root]);
  if (x.code !== 0) problems.push(`dpkg-deb -x failed: ${summary(x.stderr, 2)}`);
  else facts.root = root;
  return {
    row: { check: 'dpkg-deb', artifact, ok: !problems.length, detail: problems.length ? problems.join('; ') : `--info/--contents: ${facts.package} ${facts.version} ${facts.architecture}, ${files} files` },
    facts,
  };
}

export async function checkLintian(env: CheckEnv, deb: string): Promise<CheckRow> {
  const artifact = rel(env, deb);
  const missing = missingTools('lintian', artifact, ['lintian']);
  if (missing) return missing;
  const r = await run('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', deb]);
  const tags = r.stdout.split('\n').filter((l) => /^[EWIXPO]: /.test(l));
  const errors = tags.filter((t) => t.startsWith('E:')).length;
  const warnings = tags.filter((t) => t.startsWith('W:')).length;
  if (r.code === 0) return { check: 'lintian', artifact, ok: true, detail: tags.length ? `no errors or warnings (${tags.length} info tags)` : 'clean (errors and warnings fail)' };
  return { check: 'lintian', artifact, ok: false, detail: `${errors} errors, ${warnings} warnings: ${summary(tags.filter((t) => /^[EW]:/.test(t)).join('\n') || r.stderr)}` };
}

/** Maintainer scripts from the package's control member. */
export async function debScripts(env: CheckEnv, deb: string): Promise<{ name: string; file: string }[]> {
  const dir = path.join(env.tmp, `control-${path.basename(deb)}`);
  const r = await run('dpkg-deb', ['--control', deb, dir]);
  if (r.code !== 0) return [];
  const out: { name: string; file: string }[] = [];
  for (const name of ['preinst', 'postinst', 'prerm', 'postrm', 'config']) {
    const file = path.join(dir, name);
    if (existsSync(file) && (await readFile(file, 'utf8')).startsWith('#!')) out.push({ name, file });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- .rpm

const SCRIPTLETS = [
  ['PRETRANS', '%pretrans'],
  ['PREIN', '%pre'],
  ['POSTIN', '%post'],
  ['PREUN', '%preun'],
  ['POSTUN', '%postun'],
  ['POSTTRANS', '%posttrans'],
] as const;

export async function checkRpmQuery(env: CheckEnv, rpm: string, expect?: { version: string; release: string }): Promise<{ row: CheckRow; scripts: { name: string; file: string }[]; root?: string }> {
  const artifact = rel(env, rpm);
  const missing = missingTools('rpm -qp', artifact, ['rpm', 'rpm2cpio', 'cpio']);
  if (missing) return { row: missing, scripts: [] };
  const q = await run('rpm', ['-qp', '--qf', '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}', rpm]);
  const scriptsOut = await run('rpm', ['-qp', '--scripts', rpm]);
  const list = await run('rpm', ['-qlp', rpm]);
  if (q.code !== 0 || scriptsOut.code !== 0 || list.code !== 0) return { row: { check: 'rpm -qp', artifact, ok: false, detail: summary(`${q.stderr}\n${scriptsOut.stderr}`) }, scripts: [] };
  const [name, version, release, arch] = q.stdout.split('\t');
  const problems: string[] = [];
  if (expect && (version !== expect.version || release !== expect.release)) problems.push(`${version}-${release}, but this build is ${expect.version}-${expect.release}`);
  // Each scriptlet to its own file, with the interpreter rpm will use, for shellcheck.
  const scripts: { name: string; file: string }[] = [];
  const dir = path.join(env.tmp, `scriptlets-${path.basename(rpm)}`);
  await mkdir(dir, { recursive: true });
  for (const [tag, label] of SCRIPTLETS) {
    const body = await run('rpm', ['-qp', '--qf', `%{${tag}PROG}\\n%{${tag}}`, rpm]);
    const [prog, ...rest] = body.stdout.split('\n');
    const text = rest.join('\n');
    if (body.code !== 0 || text.trim() === '(none)' || !text.trim()) continue;
    if (prog && !/\/(ba|da)?sh$/.test(prog.trim())) continue; // a Lua or other interpreter: not shellcheck's
    const file = path.join(dir, label.slice(1));
    await writeFile(file, `#!${prog?.trim() || '/bin/sh'}\n${text}\n`);
    scripts.push({ name: label, file });
  }
  const root = path.join(env.tmp, `rpm-${path.basename(rpm)}`);
  await mkdir(root, { recursive: true });
  const x = await run('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames', 'extract', rpm], { cwd: root });
  if (x.code !== 0) problems.push(`rpm2cpio | cpio failed: ${summary(x.stderr, 2)}`);
  const files = list.stdout.split('\n').filter(Boolean).length;
  return {
    row: { check: 'rpm -qp', artifact, ok: !problems.length, detail: problems.length ? problems.join('; ') : `--scripts: ${name} ${version}-${release} ${arch}, ${scripts.length} shell scriptlets, ${files} files` },
    scripts,
    root: x.code === 0 ? root : undefined,
  };
}

/**
 * An rpm database in `dir` holding only the release key (never the host's), and the environment that points rpm
 * at it (rpmlint's signature check runs `rpm -Kv`, which reads %_dbpath from ~/.rpmmacros).
 */
export async function releaseKeyRpmEnv(dir: string, keyFile: string): Promise<Record<string, string>> {
  const db = path.join(dir, 'rpmdb');
  await mkdir(db, { recursive: true });
  await run('rpm', ['--dbpath', db, '--initdb']);
  const imported = await run('rpm', ['--dbpath', db, '--import', keyFile]);
  if (imported.code !== 0) throw new Error(`rpm --import ${keyFile}: ${summary(imported.stderr)}`);
  await writeFile(path.join(dir, '.rpmmacros'), `%_dbpath ${db}\n`);
  return { HOME: dir };
}

/** rpmlint, its signature check against the release key when `keyEnv` (releaseKeyRpmEnv) is given. */
export async function checkRpmlint(env: CheckEnv, rpm: string, config?: string, keyEnv?: Record<string, string>): Promise<CheckRow> {
  const artifact = rel(env, rpm);
  const missing = missingTools('rpmlint', artifact, ['rpmlint']);
  if (missing) return missing;
  const r = await run('rpmlint', [...(config ? ['-c', config] : []), rpm], { env: keyEnv });
  const found = r.stdout.split('\n').filter((l) => /: [EW]: /.test(l));
  const tally = /(\d+) errors?, (\d+) warnings?/.exec(r.stdout);
  const errors = tally ? Number(tally[1]) : found.filter((l) => l.includes(': E: ')).length;
  const warnings = tally ? Number(tally[2]) : found.filter((l) => l.includes(': W: ')).length;
  const ok = r.code === 0 && errors === 0 && warnings === 0;
  const detail = ok ? `clean${config ? " with the definition's expected-findings filters" : ''}` : `${errors} errors, ${warnings} warnings: ${summary(found.join('\n') || r.stderr)}`;
  return { check: 'rpmlint', artifact, ok, detail };
}

// ---------------------------------------------------------------------------------------------- scripts

/**
 * shellcheck at its default (strictest) severity. `exclude` lists codes a script kind cannot avoid: RPM
 * scriptlets embed the distributions' systemd macro expansions, which test the always-numeric `$1` unquoted
 * (SC2086, a note).
 */
export async function checkShellcheck(env: CheckEnv, artifact: string, file: string, exclude: string[] = []): Promise<CheckRow> {
  const missing = missingTools('shellcheck', artifact, ['shellcheck']);
  if (missing) return missing;
  const r = await run('shellcheck', ['--format', 'gcc', '--shell', 'sh', ...(exclude.length ? ['--exclude', exclude.join(',')] : []), file]);
  if (r.code === 0) return { check: 'shellcheck', artifact, ok: true, detail: `no findings${exclude.length ? ` (${exclude.join(', ')} excluded)` : ''}` };
  return { check: 'shellcheck', artifact, ok: false, detail: summary(r.stdout.replaceAll(`${file}:`, 'line ') || r.stderr) };
}

// ---------------------------------------------------------------------------------------------- systemd

/**
 * `systemd-analyze verify` needs each ExecStart= binary to exist and be executable, and `--root` needs a whole
 * OS tree. So the units are verified as shipped, in a temp dir, with every absolute Exec*= path pointed into
 * `root` (the package's extracted files: this also proves the package ships the binary its unit runs); paths
 * the package does not ship get a stub only when `stubs` is set (loose units, verified for syntax).
 * User units run with HOME and XDG_RUNTIME_DIR in the temp dir, so %h/... resolves there.
 * systemd-analyze exits 0 on unknown keys and bad values: any output on stderr fails the check.
 */
export async function checkUnits(
  env: CheckEnv,
  artifact: string,
  units: string[],
  opts: { scope: 'system' | 'user'; root?: string; stubs: boolean },
): Promise<CheckRow> {
  const missing = missingTools('systemd-analyze', artifact, ['systemd-analyze']);
  if (missing) return missing;
  const work = path.join(env.tmp, `units-${sha256Hex(artifact + opts.scope).slice(0, 12)}`);
  const unitDir = path.join(work, 'units');
  const home = path.join(work, 'home');
  const runtime = path.join(work, 'runtime');
  const stubRoot = path.join(work, 'stubs');
  for (const d of [unitDir, home, runtime]) await mkdir(d, { recursive: true, mode: 0o700 });
  const packaged = new Set<string>();
  const stubbed = new Set<string>();
  const absent = new Set<string>();
  const stub = async (dest: string) => {
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, '#!/bin/sh\nexit 0\n');
    await chmod(dest, 0o755);
  };
  /** Where the verifier should find `exe`; undefined leaves the line as shipped. */
  const resolve = async (exe: string): Promise<string | undefined> => {
    if (exe.startsWith('%h/')) {
      // User units: %h is HOME, which points into the temp dir; put the package's binary (or a stub) there.
      const dest = path.join(home, exe.slice(3));
      const fromPackage = opts.root ? path.join(opts.root, 'usr/bin', path.basename(exe)) : undefined;
      if (existsSync(dest)) return undefined;
      await mkdir(path.dirname(dest), { recursive: true });
      if (fromPackage && existsSync(fromPackage)) {
        await symlink(fromPackage, dest);
        packaged.add(exe);
      } else if (opts.stubs) {
        await stub(dest);
        stubbed.add(exe);
      } else absent.add(exe);
      return undefined;
    }
    if (!exe.startsWith('/')) return undefined;
    if (opts.root && existsSync(path.join(opts.root, exe))) {
      packaged.add(exe);
      return path.join(opts.root, exe);
    }
    if (await isExecutable(exe)) return undefined; // a system binary (/bin/sh, /usr/bin/env ...)
    if (opts.stubs) {
      const dest = path.join(stubRoot, exe);
      if (!existsSync(dest)) await stub(dest);
      stubbed.add(exe);
      return dest;
    }
    absent.add(exe);
    return undefined;
  };

  const copies: string[] = [];
  for (const unit of units) {
    const out: string[] = [];
    for (const line of (await readFile(unit, 'utf8')).split('\n')) {
      const m = /^(Exec[A-Za-z]*=)([-@:+!|]*)(\S+)(.*)$/.exec(line);
      const to = m ? await resolve(m[3]!) : undefined;
      out.push(m && to ? `${m[1]}${m[2]}${to}${m[4]}` : line);
    }
    const copy = path.join(unitDir, path.basename(unit));
    await writeFile(copy, out.join('\n'));
    copies.push(copy);
  }
  const r = await run('systemd-analyze', [...(opts.scope === 'user' ? ['--user'] : []), 'verify', '--man=no', ...copies], {
    env: { HOME: home, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'notice' },
  });
  const unmap = (s: string) => s.replaceAll(`${unitDir}/`, '').replaceAll(opts.root ?? '\0', '').replaceAll(stubRoot, '').replaceAll(home, '~');
  const noise = `${r.stderr}\n${r.stdout}`.trim();
  const how = [packaged.size ? `${packaged.size} Exec binaries from the package` : '', stubbed.size ? `${stubbed.size} stub executables` : ''].filter(Boolean).join(', ');
  if (r.code === 0 && !noise) return { check: 'systemd-analyze', artifact, ok: true, detail: `${units.length} ${opts.scope} units verified, no output${how ? ` (${how})` : ''}` };
  return {
    check: 'systemd-analyze',
    artifact,
    ok: false,
    detail: `${absent.size ? `not shipped by the package: ${[...absent].join(', ')}; ` : ''}${summary(unmap(noise)) || `exit ${r.code}`}`,
  };
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await stat(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Unit files (service, target, socket, timer, path, mount) below `dir`, sorted. */
export async function unitFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => /\.(service|target|socket|timer|path|mount)$/.test(f)).sort().map((f) => path.join(dir, f));
}

// ---------------------------------------------------------------------------------------------- plist, ruby

/**
 * plistutil (libplist 2.2) converts XML -> binary -> XML; it exits 0 even when it cannot parse and silently
 * turns some malformed XML into an empty dict, so the round trip is also compared with the source as parsed by
 * a plist library, and launchd's required keys are checked.
 */
export async function checkPlist(env: CheckEnv, file: string): Promise<CheckRow> {
  const artifact = rel(env, file);
  const missing = missingTools('plistutil', artifact, ['plistutil']);
  if (missing) return missing;
  const bin = path.join(env.tmp, `${path.basename(file)}.bin`);
  const back = path.join(env.tmp, `${path.basename(file)}.xml`);
  const a = await run('plistutil', ['-i', file, '-o', bin, '-f', 'bin']);
  const b = existsSync(bin) ? await run('plistutil', ['-i', bin, '-o', back, '-f', 'xml']) : a;
  const errors = `${a.stderr}\n${b.stderr}`.trim();
  if (errors || !existsSync(back)) return { check: 'plistutil', artifact, ok: false, detail: summary(errors) || 'plistutil produced nothing' };
  let source: unknown;
  let roundTrip: unknown;
  try {
    source = plist.parse(await readFile(file, 'utf8'));
    roundTrip = plist.parse(await readFile(back, 'utf8'));
  } catch (err) {
    return { check: 'plistutil', artifact, ok: false, detail: `not a valid XML plist: ${(err as Error).message.split('\n')[0]}` };
  }
  if (JSON.stringify(source) !== JSON.stringify(roundTrip)) return { check: 'plistutil', artifact, ok: false, detail: 'plistutil reads something else than the file says (malformed XML)' };
  const dict = source as Record<string, unknown>;
  const lacks = ['Label', 'ProgramArguments'].filter((k) => !(k in dict));
  if (lacks.length) return { check: 'plistutil', artifact, ok: false, detail: `launchd needs ${lacks.join(' and ')}` };
  return { check: 'plistutil', artifact, ok: true, detail: `parses (XML -> binary -> XML), Label ${String(dict.Label)}` };
}

export async function checkRuby(env: CheckEnv, file: string): Promise<CheckRow> {
  const artifact = rel(env, file);
  const missing = missingTools('ruby -c', artifact, ['ruby']);
  if (missing) return missing;
  const r = await run('ruby', ['-c', file]);
  const ok = r.code === 0 && r.stdout.trim() === 'Syntax OK';
  return { check: 'ruby -c', artifact, ok, detail: ok ? 'Syntax OK' : summary(r.stderr.replaceAll(file, path.basename(file)) || r.stdout) };
}

// ---------------------------------------------------------------------------------------------- repositories

/** An APT repository: gpgv on InRelease and Release.gpg with its exported keyring; every index and pool file matches. */
export async function checkAptRepo(env: CheckEnv, repo: string, keyringName: string): Promise<CheckRow[]> {
  const artifact = rel(env, repo);
  const missing = missingTools('apt-repo', artifact, ['gpgv']);
  if (missing) return [missing];
  const rows: CheckRow[] = [];
  const suites = existsSync(path.join(repo, 'dists')) ? (await readdir(path.join(repo, 'dists'))).sort() : [];
  if (!suites.length) return [{ check: 'apt-repo', artifact, ok: false, detail: 'no dists/<suite>/ folder' }];
  const keyring = path.join(repo, keyringName);
  const gnupg = path.join(env.tmp, 'gpgv-home');
  await mkdir(gnupg, { recursive: true, mode: 0o700 });
  for (const suite of suites) {
    const dists = path.join(repo, 'dists', suite);
    const where = `${artifact}/dists/${suite}`;
    if (!existsSync(path.join(dists, 'InRelease')) || !existsSync(keyring)) {
      rows.push({ check: 'apt-repo signature', artifact: where, ok: false, detail: `unsigned (no InRelease or no ${keyringName}): built with --unsigned?` });
    } else {
      const a = await run('gpgv', ['--homedir', gnupg, '--keyring', keyring, path.join(dists, 'InRelease')]);
      const b = await run('gpgv', ['--homedir', gnupg, '--keyring', keyring, path.join(dists, 'Release.gpg'), path.join(dists, 'Release')]);
      const ok = a.code === 0 && b.code === 0;
      const signer = /using \S+ key (\S+)/.exec(a.stderr)?.[1];
      rows.push({ check: 'apt-repo signature', artifact: where, ok, detail: ok ? `InRelease and Release.gpg verify with ${keyringName} (${signer ?? 'key'})` : summary(`${a.stderr}\n${b.stderr}`) });
    }
    rows.push(await checkAptIndexes(repo, dists, where));
  }
  return rows;
}

async function checkAptIndexes(repo: string, dists: string, where: string): Promise<CheckRow> {
  const problems: string[] = [];
  const release = await readFile(path.join(dists, 'Release'), 'utf8').catch(() => '');
  const sha = /^SHA256:\n((?: .*\n?)*)/m.exec(release)?.[1] ?? '';
  const listed = sha.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string, string]);
  if (!listed.length) problems.push('Release has no SHA256 list');
  let packages = 0;
  for (const [digest, size, file] of listed) {
    const p = path.join(dists, file);
    if (!existsSync(p)) {
      if (!file.endsWith('.gz') && !file.endsWith('.xz')) problems.push(`${file} listed in Release but missing`);
      continue;
    }
    const real = await hashFile(p);
    if (real.sha256 !== digest || String(real.size) !== size) problems.push(`${file} does not match Release`);
    if (/\/Packages$/.test(file)) {
      for (const stanza of (await readFile(p, 'utf8')).split(/\n\n+/).filter((s) => s.trim())) {
        const f = /^Filename: (.*)$/m.exec(stanza)?.[1];
        const d = /^SHA256: (.*)$/m.exec(stanza)?.[1];
        if (!f || !d) {
          problems.push(`${file}: a stanza lacks Filename or SHA256`);
          continue;
        }
        packages++;
        const pkg = path.join(repo, f);
        if (!existsSync(pkg)) problems.push(`${f} is listed but missing`);
        else if ((await hashFile(pkg)).sha256 !== d) problems.push(`${f} does not match ${file}`);
      }
    }
  }
  const uncompressed = listed.filter(([, , f]) => /\/Packages$/.test(f)).length;
  if (listed.length && !uncompressed) problems.push('Release lists no uncompressed Packages (apt would silently ignore the component)');
  return {
    check: 'apt-repo indexes',
    artifact: where,
    ok: !problems.length,
    detail: problems.length ? summary(problems.join('\n')) : `${uncompressed} Packages indexes match Release; ${packages} package entries match the pool`,
  };
}

/** A YUM repository: repomd.xml.asc verifies with the exported key, repodata matches, every RPM is signed (rpm -K). */
export async function checkYumRepo(env: CheckEnv, repo: string, keyName: string): Promise<CheckRow[]> {
  const artifact = rel(env, repo);
  const missing = missingTools('yum-repo', artifact, ['gpg', 'gpgv', 'rpm']);
  if (missing) return [missing];
  const rows: CheckRow[] = [];
  const key = path.join(repo, keyName);
  const repomd = path.join(repo, 'repodata/repomd.xml');
  const gnupg = path.join(env.tmp, 'gpg-home-yum');
  await mkdir(gnupg, { recursive: true, mode: 0o700 });
  if (!existsSync(key) || !existsSync(`${repomd}.asc`)) {
    rows.push({ check: 'yum-repo signature', artifact, ok: false, detail: `unsigned (no repodata/repomd.xml.asc or no ${keyName}): built with --unsigned?` });
  } else {
    const keyring = path.join(env.tmp, 'yum-keyring.gpg');
    const d = await run('gpg', ['--homedir', gnupg, '--batch', '--yes', '--output', keyring, '--dearmor', key]);
    const v = d.code === 0 ? await run('gpgv', ['--homedir', gnupg, '--keyring', keyring, `${repomd}.asc`, repomd]) : d;
    rows.push({ check: 'yum-repo signature', artifact, ok: v.code === 0, detail: v.code === 0 ? `repomd.xml.asc verifies with ${keyName}` : summary(v.stderr) });
  }
  // repodata files listed in repomd.xml exist with their checksums.
  const problems: string[] = [];
  const xml = await readFile(repomd, 'utf8').catch(() => '');
  if (!xml) problems.push('no repodata/repomd.xml');
  for (const m of xml.matchAll(/<data type="([^"]+)">[\s\S]*?<checksum type="sha256">([0-9a-f]+)<\/checksum>[\s\S]*?<location href="([^"]+)"\/>/g)) {
    const file = path.join(repo, m[3]!);
    if (!existsSync(file)) problems.push(`${m[3]} (${m[1]}) missing`);
    else if ((await hashFile(file)).sha256 !== m[2]) problems.push(`${m[3]} does not match repomd.xml`);
  }
  // Every package is signed by the repository key.
  const db = path.join(env.tmp, 'rpmdb-yum');
  await mkdir(db, { recursive: true });
  const rpms = existsSync(path.join(repo, 'Packages')) ? (await readdir(path.join(repo, 'Packages'))).filter((f) => f.endsWith('.rpm')).sort() : [];
  let signed = 0;
  if (existsSync(key)) await run('rpm', ['--dbpath', db, '--import', key]);
  for (const f of rpms) {
    const k = await run('rpm', ['--dbpath', db, '-K', path.join(repo, 'Packages', f)]);
    if (k.code === 0 && /digests signatures OK/.test(k.stdout)) signed++;
    else problems.push(`${f}: ${summary(k.stdout.replace(/^[^:]*: /, '') || k.stderr, 1)}`);
  }
  rows.push({
    check: 'yum-repo packages',
    artifact,
    ok: !problems.length,
    detail: problems.length ? summary(problems.join('\n')) : `repodata matches repomd.xml; ${signed} RPMs pass rpm -K (digests signatures OK)`,
  });
  return rows;
}
