// The deb target: packages written by stigmer-dist itself, checked with dpkg-deb, md5sum, lintian and shellcheck.
import { execa } from 'execa';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct, parseProduct } from '../src/product/load.ts';
import type { Product } from '../src/product/model.ts';
import { buildDeb, debFiles } from '../src/targets/deb/index.ts';
import { checkDebianVersion, installedSizeKiB, renderControl, renderCopyright, renderLintianOverrides, lintianOverrides, renderMaintainerScripts } from '../src/targets/deb/metadata.ts';
import { checkPackageName } from '../src/targets/linux/layout.ts';
import { XZ_BLOCK_SIZE, XZ_THREADS } from '../src/util/compress.ts';
import { ACME_YAML, STIGMER_YAML } from './helpers.ts';
import { buildFromTwoCheckouts, FIXTURE_EPOCH as EPOCH, fields, LINUX, linuxBuildContext, linuxPayloadDir, payloadsFrom, sh, sha256File, type ElfFixtures } from './linux-helpers.ts';

const DEBVER = '1.2.3~rc.1-1';

let fx: ElfFixtures;
let stigmer: Product;
let work: string;
let payloadDir: string;
let distA: string;
let distB: string;
const deb = (dist: string, arch: string) => path.join(dist, `stigmer_${DEBVER}_${arch}.deb`);

beforeAll(async () => {
  ({ fx, stigmer, work, payloadDir, distA, distB } = await buildFromTwoCheckouts('sd-deb-', ['deb', 'checksums'], { together: true }));
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('deb target: a build of the real definition', () => {
  it('writes one package per Linux architecture at the top of dist/<version>/ and lists them in SHA256SUMS', () => {
    const debs = readdirSync(distA).filter((f) => f.endsWith('.deb')).sort();
    expect(debs).toEqual([`stigmer_${DEBVER}_amd64.deb`, `stigmer_${DEBVER}_arm64.deb`]);
    const sums = readFileSync(path.join(distA, 'SHA256SUMS'), 'utf8');
    for (const f of debs) expect(sums).toContain(`${sha256File(path.join(distA, f))}  ${f}`);
  });

  it('is byte-identical when built from another directory', () => {
    for (const arch of ['amd64', 'arm64']) expect(sha256File(deb(distB, arch)), arch).toBe(sha256File(deb(distA, arch)));
  });

  it('is an ar archive of debian-binary, control.tar.xz, data.tar.xz with dpkg-style headers', () => {
    const buf = readFileSync(deb(distA, 'amd64'));
    expect(buf.subarray(0, 8).toString('latin1')).toBe('!<arch>\n');
    const names: string[] = [];
    let off = 8;
    while (off < buf.length) {
      const h = buf.subarray(off, off + 60).toString('latin1');
      expect(h.slice(58, 60)).toBe('`\n');
      expect(h.slice(28, 40)).toBe('0     0     '); // uid, gid
      expect(h.slice(40, 48)).toBe('100644  ');
      expect(Number(h.slice(16, 28))).toBe(EPOCH);
      names.push(h.slice(0, 16).trimEnd());
      const size = Number(h.slice(48, 58));
      off += 60 + size + (size % 2);
    }
    expect(off).toBe(buf.length);
    expect(names).toEqual(['debian-binary', 'control.tar.xz', 'data.tar.xz']);
  });

  it('writes data.tar.xz from each payload compressed alone (xz -6, fixed block size), whatever the thread count', async () => {
    const member = Buffer.from((await execa('ar', ['p', deb(distA, 'amd64'), 'data.tar.xz'], { encoding: 'buffer', stripFinalNewline: false })).stdout);
    await execa('xz', ['-t'], { input: member });
    const tar = (await execa('xz', ['-dc'], { input: member, encoding: 'buffer', stripFinalNewline: false })).stdout;
    const binary = (await execa('tar', ['-xOf', '-', './usr/bin/stigmer-server'], { input: tar, encoding: 'buffer', stripFinalNewline: false })).stdout;
    expect(binary.length).toBeGreaterThan(0);
    // The binary through xz alone, in multi-threaded mode with one thread (+1) and with eight: its blocks (the
    // stream without its 12-byte header, index and footer) are in the member verbatim, as in the .rpm's payload.
    for (const threads of ['+1', '8']) {
      const alone = Buffer.from((await execa('xz', ['-6', '-c', `--threads=${threads}`, `--block-size=${XZ_BLOCK_SIZE}`], { input: binary, encoding: 'buffer', stripFinalNewline: false })).stdout);
      const index = (alone.readUInt32LE(alone.length - 8) + 1) * 4;
      const blocks = alone.subarray(12, alone.length - 12 - index);
      expect(member.indexOf(blocks), `--threads=${threads} (we use ${XZ_THREADS})`).toBeGreaterThan(0);
    }
  });

  it.each(['amd64', 'arm64'])('dpkg-deb reads the %s control fields', async (arch) => {
    const f = fields(await sh('dpkg-deb', ['--field', deb(distA, arch)]));
    expect(f).toMatchObject({
      Package: 'stigmer',
      Version: DEBVER,
      Architecture: arch,
      Maintainer: 'Stigmer Maintainers <maintainers@stigmer.ai>',
      Section: 'net',
      Priority: 'optional',
      Homepage: 'https://github.com/stigmer/stigmer',
      Description: 'Workflow platform for AI agents with durable execution',
    });
    // The dynamically linked stand-in for the PyInstaller bootloader (amd64 only) needs libc6.
    expect(f.Depends).toBe(arch === 'amd64' ? 'init-system-helpers (>= 1.54~), passwd, libc6' : 'init-system-helpers (>= 1.54~), passwd');
    // Installed-Size as dpkg-gencontrol computes it: files in whole KiB, plus 1 per directory.
    const listing = (await sh('dpkg-deb', ['--contents', deb(distA, arch)])).trim().split('\n');
    const sizes = listing.filter((l) => l.startsWith('-')).map((l) => Number(l.split(/\s+/)[2]));
    expect(Number(f['Installed-Size'])).toBe(installedSizeKiB(sizes, listing.filter((l) => l.startsWith('d')).length));
  });

  it('installs binaries, units, the sysusers.d entry, the env file and the doc files with the right modes', async () => {
    const listing = (await sh('dpkg-deb', ['--contents', deb(distA, 'amd64')])).trim().split('\n');
    const entries = Object.fromEntries(listing.map((l) => l.split(/\s+/)).map((c) => [c[5], `${c[0]} ${c[1]}`]));
    expect(entries).toMatchObject({
      './': 'drwxr-xr-x root/root',
      './usr/bin/stigmer': '-rwxr-xr-x root/root',
      './usr/bin/stigmer-server': '-rwxr-xr-x root/root',
      './usr/bin/stigmer-temporal': '-rwxr-xr-x root/root',
      './usr/bin/workflow-runner': '-rwxr-xr-x root/root',
      './usr/bin/agent-runner': '-rwxr-xr-x root/root',
      './usr/lib/systemd/system/stigmer.target': '-rw-r--r-- root/root',
      './usr/lib/systemd/system/stigmer-server.service': '-rw-r--r-- root/root',
      './usr/lib/sysusers.d/stigmer.conf': '-rw-r--r-- root/root',
      './etc/stigmer/stigmer.env': '-rw-r----- root/root',
      './usr/share/doc/stigmer/copyright': '-rw-r--r-- root/root',
      './usr/share/doc/stigmer/changelog.Debian.gz': '-rw-r--r-- root/root',
      './usr/share/lintian/overrides/stigmer': '-rw-r--r-- root/root',
    });
    // Nothing under /var: systemd's StateDirectory=/LogsDirectory= create those at run time.
    expect(Object.keys(entries).filter((p) => p.startsWith('./var'))).toEqual([]);
    // Every entry carries SOURCE_DATE_EPOCH.
    expect(new Set(listing.map((l) => l.split(/\s+/).slice(3, 5).join(' ')))).toEqual(new Set(['2023-11-14 22:13']));
  });

  it('ships payloads byte-identical (never stripped) and md5sums that verify; the conffile is listed, not hashed', async () => {
    const root = path.join(work, 'x-amd64');
    await sh('dpkg-deb', ['-x', deb(distA, 'amd64'), root]);
    await sh('dpkg-deb', ['-e', deb(distA, 'amd64'), path.join(root, 'DEBIAN')]);
    for (const c of stigmer.components) expect(sha256File(path.join(root, 'usr/bin', c.binary)), c.name).toBe(sha256File(path.join(payloadDir, 'linux-amd64', c.binary)));
    const md5sums = readFileSync(path.join(root, 'DEBIAN/md5sums'), 'utf8');
    expect(md5sums).not.toContain('etc/');
    expect(md5sums.trim().split('\n')).toHaveLength(readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.includes('DEBIAN') && !e.parentPath.includes('/etc')).length);
    await sh('md5sum', ['--check', '--strict', '--quiet', path.join(root, 'DEBIAN/md5sums')], root);
    expect(readFileSync(path.join(root, 'DEBIAN/conffiles'), 'utf8')).toBe('/etc/stigmer/stigmer.env\n');
    // The env file holds the secret names, commented out, and stays the same from version to version.
    const env = readFileSync(path.join(root, 'etc/stigmer/stigmer.env'), 'utf8');
    for (const s of stigmer.secrets) expect(env).toMatch(new RegExp(`^#${s}=$`, 'm'));
    expect(env).not.toContain('1.2.3');
    // The Debian changelog parses and is compressed like gzip -9n (no name, no time stamp).
    const gz = readFileSync(path.join(root, 'usr/share/doc/stigmer/changelog.Debian.gz'));
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[3]! & 0x08).toBe(0);
    const text = (await execa('zcat', [path.join(root, 'usr/share/doc/stigmer/changelog.Debian.gz')])).stdout;
    expect(text).toMatch(new RegExp(`^stigmer \\(${DEBVER.replace(/[.~]/g, '\\$&')}\\) stable; urgency=medium$`, 'm'));
    expect(text).toMatch(/^ -- Stigmer Maintainers <maintainers@stigmer\.ai> {2}Tue, 14 Nov 2023 22:13:20 \+0000$/m);
  });

  it('maintainer scripts are POSIX sh, shellcheck-clean and executable', async () => {
    const root = path.join(work, 'x-arm64');
    await sh('dpkg-deb', ['-e', deb(distA, 'arm64'), root]);
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const file = path.join(root, script);
      expect(readFileSync(file, 'utf8').startsWith('#!/bin/sh\n'), script).toBe(true);
      await sh('sh', ['-n', file]);
      await sh('shellcheck', ['--shell=sh', '--severity=style', file]);
    }
  });

  it('lintian finds no errors or warnings, and uses the overrides', async () => {
    const strict = await execa('lintian', ['--fail-on', 'error,warning', deb(distA, 'amd64'), deb(distA, 'arm64')], { reject: false, env: { LC_ALL: 'C.UTF-8' } });
    expect(strict.exitCode, strict.stdout + strict.stderr).toBe(0);
    // Again with the overridden tags shown (lintian then exits 2 for them, so judge the tags themselves).
    const r = await execa('lintian', ['--display-info', '--show-overrides', deb(distA, 'amd64')], { reject: false, env: { LC_ALL: 'C.UTF-8' } });
    expect([0, 2], r.stderr).toContain(r.exitCode);
    const tags = r.stdout.split('\n').filter((l) => /^[EWIXPO]: /.test(l));
    expect(tags.filter((l) => /^[EW]: /.test(l)), r.stdout).toEqual([]);
    const overridden = tags.filter((l) => l.startsWith('O: '));
    expect(overridden).toContain('O: stigmer: statically-linked-binary [usr/bin/stigmer-server]');
    expect(overridden).toContain('O: stigmer: unstripped-binary-or-object [usr/bin/stigmer]');
    expect(overridden).toContain('O: stigmer: non-standard-file-perm 0640 != 0644 [etc/stigmer/stigmer.env]');
    // Every override written is used (lintian reports unused or mismatched ones as I: or W:).
    expect(tags.filter((l) => /unused-override|mismatched-override/.test(l))).toEqual([]);
  });
});

describe('deb target: in-process builds', () => {
  it.each(['gzip', 'zstd'] as const)('honours linux.deb.compression: %s', async (kind) => {
    const text = readFileSync(STIGMER_YAML, 'utf8').replace(/^files:/m, `linux:\n  deb: { compression: ${kind} }\n\nfiles:`);
    const product = parseProduct(text, STIGMER_YAML);
    const out = path.join(work, `c-${kind}`);
    const dest = path.join(out, 'p.deb');
    await buildDeb(linuxBuildContext(product, await payloadsFrom(payloadDir, product, LINUX), out), 'linux-arm64', dest);
    const ext = kind === 'gzip' ? 'gz' : 'zst';
    expect((await sh('ar', ['t', dest])).split('\n')).toEqual(['debian-binary', `control.tar.${ext}`, `data.tar.${ext}`]);
    expect(fields(await sh('dpkg-deb', ['--field', dest])).Package).toBe('stigmer');
    expect(await sh('dpkg-deb', ['--contents', dest])).toContain('./usr/bin/stigmer-server');
    expect(readdirSync(out)).toEqual(['p.deb']); // the temporary data.tar is gone
  });

  it('packages the second product (MIT license embedded, a component missing on no platform)', async () => {
    const acme = loadProduct(ACME_YAML);
    const dir = linuxPayloadDir(acme, fx, work);
    const out = path.join(work, 'acme');
    const dest = path.join(out, 'acme.deb');
    await buildDeb(linuxBuildContext(acme, await payloadsFrom(dir, acme, LINUX), out, '2.4.0'), 'linux-amd64', dest);
    const f = fields(await sh('dpkg-deb', ['--field', dest]));
    expect(f).toMatchObject({ Package: 'acme', Version: '2.4.0-1', Architecture: 'amd64' });
    const contents = await sh('dpkg-deb', ['--contents', dest]);
    expect(contents).toContain('./etc/acme-relay/relay.env');
    expect(contents).toContain('./usr/share/doc/acme/NOTICE');
    expect(contents).toContain('./usr/lib/systemd/system/acme.target');
    const copyright = (await execa('sh', ['-c', `dpkg-deb --fsys-tarfile "${dest}" | tar -xO ./usr/share/doc/acme/copyright`])).stdout;
    expect(copyright).toContain('License: Expat\n Permission is hereby granted');
    const r = await execa('lintian', ['--fail-on', 'error,warning', dest], { reject: false });
    expect(r.stdout.split('\n').filter((l) => /^[EW]: /.test(l)), r.stdout).toEqual([]);
  });

  it('golden: maintainer scripts, copyright and lintian overrides', async () => {
    const scripts = renderMaintainerScripts(stigmer);
    for (const [name, text] of Object.entries(scripts)) await expect(text).toMatchFileSnapshot(`golden/stigmer/deb/${name}`);
    await expect(renderCopyright(stigmer, 2023, [])).toMatchFileSnapshot('golden/stigmer/deb/copyright');
    const files = await debFiles(linuxBuildContext(stigmer, await payloadsFrom(payloadDir, stigmer, LINUX), work), 'linux-amd64');
    await expect(renderLintianOverrides(stigmer, lintianOverrides(stigmer, files))).toMatchFileSnapshot('golden/stigmer/deb/lintian-overrides-amd64');
    const acme = renderMaintainerScripts(loadProduct(ACME_YAML));
    for (const [name, text] of Object.entries(acme)) await expect(text).toMatchFileSnapshot(`golden/acme/deb/${name}`);
    await expect(renderControl({ product: stigmer, version: DEBVER, arch: 'arm64', installedSizeKiB: 1234, depends: ['init-system-helpers (>= 1.54~)', 'passwd'] })).toMatchFileSnapshot('golden/stigmer/deb/control-arm64');
  });
});

describe('deb target: bad input', () => {
  it.each([
    ['1.2.3-rc.1', true],
    ['1.2.3~rc.1-1', true],
    ['2:1.0-1', true],
    ['v1.2.3-1', false],
    ['1.2.3_rc-1', false],
    ['1.2.3-', false],
    ['', false],
  ])('Debian version %j valid: %s', (v, ok) => {
    const run = () => checkDebianVersion(v, 'version');
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/is not a valid Debian version/);
  });

  it('rejects package names Debian refuses', () => {
    expect(() => checkPackageName('a', 'product.name')).toThrow(/not a valid Linux package name/);
    expect(() => checkPackageName('Stigmer', 'product.name')).toThrow(/not a valid Linux package name/);
    expect(() => checkPackageName('stigmer-server', 'product.name')).not.toThrow();
  });

  it('keeps refusing an env file outside /etc at load time', () => {
    const text = readFileSync(STIGMER_YAML, 'utf8').replace('envFile: /etc/stigmer/stigmer.env', 'envFile: /opt/stigmer/stigmer.env');
    expect(() => parseProduct(text, STIGMER_YAML)).toThrow(/install\.envFile: \/opt\/stigmer\/stigmer\.env is not inside configDir \/etc\/stigmer/);
  });

  it('refuses a license it cannot put in the copyright file, at load', () => {
    const text = readFileSync(STIGMER_YAML, 'utf8').replace('license: Apache-2.0', 'license: BUSL-1.1').replace(/^files:\n.*\n/m, '');
    expect(() => parseProduct(text, STIGMER_YAML)).toThrow(/product\.license: BUSL-1\.1 has no text in Debian's \/usr\/share\/common-licenses, and no license file is packaged/);
  });
});
