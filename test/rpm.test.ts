// The rpm target: packages built by rpmbuild from the rendered spec, checked with rpm -qp, rpm2cpio, rpmlint
// and shellcheck.
import { execa } from 'execa';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProduct } from '../src/product/load.ts';
import type { Product } from '../src/product/model.ts';
import { buildRpm, rpmSpec } from '../src/targets/rpm/index.ts';
import { checkRpmVersion, renderRpmlintConfig } from '../src/targets/rpm/spec.ts';
import { ACME_YAML } from './helpers.ts';
import { buildFromTwoCheckouts, FIXTURE_EPOCH as EPOCH, fields, LINUX, linuxBuildContext, linuxPayloadDir, payloadsFrom, sh, sha256File, type ElfFixtures } from './linux-helpers.ts';

const RPMS = { amd64: 'stigmer-1.2.3~rc.1-1.x86_64.rpm', arm64: 'stigmer-1.2.3~rc.1-1.aarch64.rpm' };

let fx: ElfFixtures;
let stigmer: Product;
let work: string;
let payloadDir: string;
let distA: string;
let distB: string;

/** `rpm -qp --scripts` output split into scriptlet bodies by name (preinstall, postinstall, ...). */
function scriptlets(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\w+) scriptlet \(using \/bin\/sh\):$/.exec(line);
    if (m) out[(cur = m[1]!)] = '';
    else if (cur) out[cur] += `${line}\n`;
  }
  return out;
}

beforeAll(async () => {
  ({ fx, stigmer, work, payloadDir, distA, distB } = await buildFromTwoCheckouts('sd-rpm-', ['rpm', 'checksums'], { together: false }));
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('rpm target: a build of the real definition', () => {
  it('writes one package per Linux architecture at the top of dist/<version>/ and lists them in SHA256SUMS', () => {
    expect(readdirSync(distA).filter((f) => f.endsWith('.rpm')).sort()).toEqual([RPMS.arm64, RPMS.amd64]);
    const sums = readFileSync(path.join(distA, 'SHA256SUMS'), 'utf8');
    for (const f of Object.values(RPMS)) expect(sums).toContain(`${sha256File(path.join(distA, f))}  ${f}`);
  });

  it('is byte-identical when built from another directory', () => {
    for (const f of Object.values(RPMS)) expect(sha256File(path.join(distB, f)), f).toBe(sha256File(path.join(distA, f)));
  });

  it.each([
    ['amd64', 'x86_64'],
    ['arm64', 'aarch64'],
  ] as const)('rpm -qp --info of the %s package', async (arch, rpmArch) => {
    const info = fields(await sh('rpm', ['-qp', '--info', path.join(distA, RPMS[arch])]));
    expect(info).toMatchObject({
      Name: 'stigmer',
      Version: '1.2.3~rc.1',
      Release: '1',
      Architecture: rpmArch,
      License: 'Apache-2.0',
      URL: 'https://github.com/stigmer/stigmer',
      Vendor: 'Stigmer',
      Packager: 'Stigmer Maintainers <maintainers@stigmer.ai>',
      'Build Host': 'reproducible',
      Summary: 'Workflow platform for AI agents with durable execution',
    });
    expect(await sh('rpm', ['-qp', '--qf', '%{BUILDTIME}', path.join(distA, RPMS[arch])])).toBe(String(EPOCH));
    // xz -6, assembled from the payloads compressed once per build (the .deb's blocks): headers and digests agree.
    expect(await sh('rpm', ['-qp', '--qf', '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}', path.join(distA, RPMS[arch])])).toBe('xz 6');
    expect(await sh('rpm', ['-K', '-v', path.join(distA, RPMS[arch])])).toMatch(/Header SHA256 digest: OK[\s\S]*Header SHA1 digest: OK[\s\S]*Payload SHA256 digest: OK[\s\S]*MD5 digest: OK/);
  });

  it('lists files with their modes, owners and flags; the env file is %config(noreplace) root:<group> 0640', async () => {
    const dump = (await sh('rpm', ['-qp', '--dump', path.join(distA, RPMS.amd64)])).trim().split('\n');
    const rows = Object.fromEntries(dump.map((l) => l.split(' ')).map((c) => [c[0], { mtime: c[2], mode: c[4], owner: `${c[5]}:${c[6]}`, config: c[7] }]));
    expect(rows['/etc/stigmer/stigmer.env']).toMatchObject({ mode: '0100640', owner: 'root:stigmer', config: '1' });
    expect(rows['/etc/stigmer']).toMatchObject({ mode: '040755', owner: 'root:root' });
    for (const c of stigmer.components) expect(rows[`/usr/bin/${c.binary}`], c.name).toMatchObject({ mode: '0100755', owner: 'root:root', config: '0' });
    for (const unit of ['stigmer.target', 'stigmer-server.service', 'agent-runner.service']) expect(rows[`/usr/lib/systemd/system/${unit}`], unit).toMatchObject({ mode: '0100644' });
    expect(Object.keys(rows)).toEqual(expect.arrayContaining(['/usr/lib/sysusers.d/stigmer.conf', '/usr/lib/systemd/system-preset/50-stigmer.preset', '/usr/share/licenses/stigmer/LICENSE']));
    // The distribution's directories are not claimed; nothing under /var (systemd creates it at run time).
    expect(Object.keys(rows).filter((p) => ['/usr/bin', '/usr/lib/systemd/system', '/etc'].includes(p) || p.startsWith('/var'))).toEqual([]);
    expect(new Set(Object.values(rows).map((r) => r.mtime))).toEqual(new Set([String(EPOCH)]));
    const configs = await sh('rpm', ['-qp', '--configfiles', path.join(distA, RPMS.amd64)]);
    expect(configs.trim()).toBe('/etc/stigmer/stigmer.env');
    expect(await sh('rpm', ['-qp', '--qf', '[%{FILENAMES} %{FILEFLAGS:fflags}\n]', path.join(distA, RPMS.amd64)])).toMatch(/^\/etc\/stigmer\/stigmer\.env cn$/m);
  });

  it('ships the payloads byte-identical (never stripped)', async () => {
    for (const [arch, file] of Object.entries(RPMS)) {
      const root = path.join(work, `x-${arch}`);
      mkdirSync(root, { recursive: true });
      await execa('sh', ['-c', `rpm2cpio "${path.join(distA, file)}" | cpio -idm --quiet`], { cwd: root });
      for (const c of stigmer.components) expect(sha256File(path.join(root, 'usr/bin', c.binary)), `${arch} ${c.name}`).toBe(sha256File(path.join(payloadDir, `linux-${arch}`, c.binary)));
    }
  });

  it('scriptlets create the user, enable and start the target, restart on upgrade, stop and disable on erase; shellcheck-clean', async () => {
    const s = scriptlets(await sh('rpm', ['-qp', '--scripts', path.join(distA, RPMS.arm64)]));
    expect(Object.keys(s).sort()).toEqual(['postinstall', 'postuninstall', 'preinstall', 'preuninstall']);
    expect(s.preinstall).toContain('systemd-sysusers --replace=/usr/lib/sysusers.d/stigmer.conf -');
    expect(s.preinstall).toMatch(/useradd --system --gid stigmer --home-dir \/var\/lib\/stigmer .* stigmer$/m);
    expect(s.postinstall).toMatch(/systemctl --no-reload preset stigmer\.target/);
    expect(s.postinstall).toMatch(/systemctl start stigmer\.target/);
    const all = 'stigmer.target stigmer-temporal.service stigmer-server.service workflow-runner.service agent-runner.service';
    // The unit names survive macro expansion (the %global trap would leave them empty).
    expect(s.preuninstall).toContain(`if [ "$1" -eq 0 ]; then systemctl --no-reload disable --now ${all} `);
    expect(s.postuninstall).toContain(`if [ "$1" -ge 1 ]; then systemctl try-restart ${all} `);
    for (const [name, body] of Object.entries(s)) {
      const file = path.join(work, `${name}.sh`);
      writeFileSync(file, `#!/bin/sh\n${body}`);
      await sh('sh', ['-n', file]);
      await sh('shellcheck', ['--shell=sh', '--severity=style', file]);
    }
  });

  it('rpmlint with the generated configuration finds no errors or warnings', async () => {
    const config = path.join(work, 'rpmlint.toml');
    writeFileSync(config, renderRpmlintConfig(stigmer));
    const r = await execa('rpmlint', ['-c', config, path.join(distA, RPMS.amd64), path.join(distA, RPMS.arm64)], { reject: false });
    expect(r.stdout.split('\n').filter((l) => /: [EW]: /.test(l)), r.stdout).toEqual([]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 errors, 0 warnings/);
    // Without it rpmlint reports exactly what the configuration filters (so no filter is dead).
    const bare = await execa('rpmlint', [path.join(distA, RPMS.amd64)], { reject: false });
    expect(bare.stdout).toMatch(/E: statically-linked-binary \/usr\/bin\/stigmer-server/);
    expect(bare.stdout).toMatch(/E: non-readable \/etc\/stigmer\/stigmer\.env 640/);
  });
});

describe('rpm target: spec and bad input', () => {
  it('golden: the rendered spec and the rpmlint configuration', async () => {
    const { spec } = await rpmSpec(linuxBuildContext(stigmer, await payloadsFrom(payloadDir, stigmer, LINUX), work), 'linux-arm64');
    await expect(spec).toMatchFileSnapshot('golden/stigmer/rpm/stigmer.spec');
    await expect(renderRpmlintConfig(stigmer)).toMatchFileSnapshot('golden/stigmer/rpm/rpmlint.toml');
    const acme = loadProduct(ACME_YAML);
    const acmeSpec = (await rpmSpec(linuxBuildContext(acme, await payloadsFrom(linuxPayloadDir(acme, fx, work), acme, LINUX), work, '2.4.0'), 'linux-amd64')).spec;
    await expect(acmeSpec).toMatchFileSnapshot('golden/acme/rpm/acme.spec');
  });

  it.each([
    ['1.2.3~rc.1', '1', true],
    ['1.2.3', '2', true],
    ['1.2.3-rc.1', '1', false],
    ['1.2.3', '1-1', false],
    ['1.2 3', '1', false],
  ])('rpm version %j release %j valid: %s', (version, release, ok) => {
    const run = () => checkRpmVersion(version, release, 'version');
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/is not a valid rpm (version|release)/);
  });
});
