// The SBOM: Go build info read from ELF, Mach-O and PE in TypeScript equals `go version -m`; a PyInstaller
// one-file archive written here in PyInstaller's CArchive layout yields its bundled distributions; the CycloneDX
// 1.6 document validates against the schema (offline), lists all of it, and is byte-reproducible.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NeedleScanner, positionsOf } from '../src/sbom/bytes.ts';
import { buildSbom, describeArchivedBinary, describeBinary, validateSbom, type SbomInput } from '../src/sbom/cyclonedx.ts';
import { readGoBuildInfo, type GoBuildInfo } from '../src/sbom/go-buildinfo.ts';
import { pythonDistributions, readCArchive } from '../src/sbom/pyinstaller.ts';
import { runCli, tempDir } from './helpers.ts';
import { GO_TARGETS, MODULE_FIXTURE, moduleBinary, standinBinary } from './trust-helpers.ts';

/** `go version -m FILE`, parsed into the reader's shape. */
async function goVersionM(file: string): Promise<GoBuildInfo> {
  const lines = (await execa('go', ['version', '-m', file])).stdout.split('\n');
  const out: GoBuildInfo = { goVersion: lines[0]!.slice(lines[0]!.lastIndexOf(': ') + 2), deps: [], settings: {} };
  let last: GoBuildInfo['deps'][number] | undefined;
  for (const line of lines.slice(1)) {
    const f = line.replace(/^\t/, '').split('\t');
    const mod = () => ({ path: f[1]!, version: f[2]!, ...(f[3] ? { sum: f[3] } : {}) });
    if (f[0] === 'path') out.path = f[1];
    else if (f[0] === 'mod') out.main = last = mod();
    else if (f[0] === 'dep') out.deps.push((last = mod()));
    else if (f[0] === '=>') last!.replace = { path: f[1]!, ...(f[2] ? { version: f[2] } : {}), ...(f[3] ? { sum: f[3] } : {}) };
    else if (f[0] === 'build') {
      const kv = f.slice(1).join('\t');
      const v = kv.slice(kv.indexOf('=') + 1);
      out.settings[kv.slice(0, kv.indexOf('='))] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
    }
  }
  return out;
}

describe('Go build info', () => {
  it.each(GO_TARGETS)('of a module program for $goos/$goarch ($format) equals `go version -m`', async (t) => {
    const file = await moduleBinary(t);
    const info = readGoBuildInfo(readFileSync(file));
    expect(info).toEqual(await goVersionM(file));
    expect(info!.main?.path).toBe(MODULE_FIXTURE.path);
    expect(info!.deps.map((d) => [d.path, d.version])).toEqual([[MODULE_FIXTURE.dep.path, MODULE_FIXTURE.dep.version]]);
    expect(info!.settings).toMatchObject({ GOOS: t.goos, GOARCH: t.goarch, CGO_ENABLED: '0', '-trimpath': 'true' });
  });

  it.each(GO_TARGETS)('of the stand-in for $goos/$goarch (GOPATH mode: no modules) equals `go version -m`', async (t) => {
    const file = await standinBinary(t);
    const info = readGoBuildInfo(readFileSync(file));
    expect(info).toEqual(await goVersionM(file));
    expect(info!.main).toBeUndefined();
    expect(info!.goVersion).toMatch(/^go1\.\d+/);
  });

  it('is absent from a file that is not a Go binary', () => {
    expect(readGoBuildInfo(readFileSync('/bin/true'))).toBeUndefined();
    expect(readGoBuildInfo(Buffer.from('\xff Go buildinf:\x08\x00 but nothing after', 'latin1'))).toBeUndefined();
  });
});

/** A PyInstaller one-file binary: bootloader bytes, then a CArchive (entries, TOC, cookie) as writers.py lays it out. */
function pyinstallerOneFile(bootloader: Buffer, entries: { name: string; type: string; data: Buffer; compress: boolean }[], pyvers = 312): Buffer {
  const parts: Buffer[] = [];
  const toc: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const stored = e.compress ? deflateSync(e.data) : e.data;
    parts.push(stored);
    const name = Buffer.from(e.name, 'utf8');
    // Name NUL-terminated and padded so the entry length is a multiple of 16.
    const unpadded = 18 + name.length + 1;
    const entryLength = unpadded + ((16 - (unpadded % 16)) % 16);
    const entry = Buffer.alloc(entryLength);
    entry.writeUInt32BE(entryLength, 0);
    entry.writeUInt32BE(offset, 4);
    entry.writeUInt32BE(stored.length, 8);
    entry.writeUInt32BE(e.data.length, 12);
    entry[16] = e.compress ? 1 : 0;
    entry.write(e.type, 17, 'latin1');
    name.copy(entry, 18);
    toc.push(entry);
    offset += stored.length;
  }
  const tocBuf = Buffer.concat(toc);
  const cookie = Buffer.alloc(88);
  Buffer.from([0x4d, 0x45, 0x49, 0x0c, 0x0b, 0x0a, 0x0b, 0x0e]).copy(cookie, 0);
  cookie.writeUInt32BE(offset + tocBuf.length + 88, 8);
  cookie.writeUInt32BE(offset, 12);
  cookie.writeUInt32BE(tocBuf.length, 16);
  cookie.writeUInt32BE(pyvers, 20);
  cookie.write('libpython3.12.so.1.0', 24, 'utf8');
  return Buffer.concat([bootloader, ...parts, tocBuf, cookie]);
}

const metadata = (name: string, version: string) => Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: test\n\nVersion: not-a-header\n`);

/** `padding`: bytes appended to the bootloader, moving the archive (as a large PyInstaller bootloader would). */
async function frozenFixture(dir: string, padding = 0): Promise<string> {
  const bootloader = Buffer.concat([readFileSync(await standinBinary({ goos: 'linux', goarch: 'amd64', format: 'elf' })), Buffer.alloc(padding, 0x5a)]);
  const file = path.join(dir, 'stigmer-server');
  writeFileSync(
    file,
    pyinstallerOneFile(bootloader, [
      { name: 'struct', type: 'm', data: Buffer.from('compiled module'), compress: true },
      { name: 'pyimod01_archive', type: 'm', data: Buffer.from('compiled module'), compress: true },
      { name: 'server', type: 's', data: Buffer.from('compiled script'), compress: true },
      { name: 'PYZ-00.pyz', type: 'z', data: Buffer.from('PYZ\0 pretend zlib archive'), compress: false },
      { name: 'libpython3.12.so.1.0', type: 'b', data: Buffer.alloc(300, 7), compress: true },
      { name: 'requests-2.31.0.dist-info/METADATA', type: 'x', data: metadata('requests', '2.31.0'), compress: true },
      { name: 'requests-2.31.0.dist-info/RECORD', type: 'x', data: Buffer.from('x'), compress: true },
      // Directory names are normalised (underscores); METADATA keeps the canonical name.
      { name: 'charset_normalizer-3.3.2.dist-info/METADATA', type: 'x', data: metadata('charset-normalizer', '3.3.2'), compress: false },
      { name: 'Temporal_SDK-1.7.0.dist-info/METADATA', type: 'x', data: metadata('temporalio', '1.7.0'), compress: true },
      { name: 'base_library.zip', type: 'x', data: Buffer.from('zip'), compress: false },
    ]),
  );
  return file;
}

describe('PyInstaller one-file archive', () => {
  it('yields the bundled distributions from the CArchive table of contents and METADATA', async () => {
    const dir = tempDir();
    const file = await frozenFixture(dir);
    const data = readFileSync(file);
    const archive = readCArchive(data)!;
    expect(archive.pythonVersion).toBe(312);
    expect(archive.pythonLibrary).toBe('libpython3.12.so.1.0');
    expect(archive.entries.map((e) => e.type).join('')).toBe('mmszbxxxxx');
    expect(pythonDistributions(data, archive)).toEqual([
      { name: 'charset-normalizer', version: '3.3.2' },
      { name: 'requests', version: '2.31.0' },
      { name: 'temporalio', version: '1.7.0' },
    ]);
    // The bootloader is a Go program here, so both readers see their part of the same file.
    const contents = await describeBinary(file);
    expect(contents.format).toBe('elf');
    expect(contents.go?.goVersion).toMatch(/^go1\./);
    expect(contents.python?.distributions).toHaveLength(3);
  });

  it('is absent from an ordinary binary, and a cookie with a bad table of contents is ignored', async () => {
    expect(readCArchive(readFileSync('/bin/true'))).toBeUndefined();
    const broken = pyinstallerOneFile(Buffer.alloc(64), [{ name: 'a', type: 'x', data: Buffer.from('a'), compress: false }]);
    broken.writeUInt32BE(0xffff, broken.length - 88 + 16); // TOC length beyond the archive
    expect(readCArchive(broken)).toBeUndefined();
  });
});

describe('binaries described from a streaming read', () => {
  it('finds every needle across chunk boundaries, whatever the chunk size', () => {
    const needles = [Buffer.from('\xff Go buildinf:', 'latin1'), Buffer.from('MEI\x0c\x0b\x0a\x0b\x0e', 'latin1')];
    const data = Buffer.alloc(5000, 0x41);
    for (const [at, n] of [[0, 0], [20, 1], [998, 0], [1013, 1], [1500, 1], [4970, 1], [4986, 0]] as const) needles[n]!.copy(data, at);
    const expected = needles.map((n) => positionsOf(data, n));
    expect(expected).toEqual([[0, 998, 4986], [20, 1013, 1500, 4970]]);
    for (const size of [1, 3, 7, 14, 15, 1000, 5000]) {
      const scanner = new NeedleScanner(needles);
      for (let at = 0; at < data.length; at += size) scanner.update(data.subarray(at, at + size));
      expect(scanner.positions, `chunks of ${size}`).toEqual(expected);
    }
  });

  it('gives what the in-memory readers give, for an archive beyond the first chunks of the file', async () => {
    const file = await frozenFixture(tempDir(), 3 * 1024 * 1024 + 7);
    const data = readFileSync(file);
    const archive = readCArchive(data)!;
    expect(archive.start).toBeGreaterThan(3 * 1024 * 1024);
    const described = await describeArchivedBinary(file);
    expect(described.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(described.contents).toEqual({ format: 'elf', go: readGoBuildInfo(data), python: { version: 312, distributions: pythonDistributions(data, archive) } });
    expect(described.contents.python!.distributions).toHaveLength(3);
  });
});

describe('CycloneDX SBOM', () => {
  async function input(dir: string): Promise<SbomInput> {
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    const cli = await moduleBinary({ goos: 'windows', goarch: 'amd64', format: 'pe' });
    const cliLinux = await moduleBinary({ goos: 'linux', goarch: 'arm64', format: 'elf' });
    const server = await frozenFixture(dir);
    return {
      product: { name: 'stigmer', version: '1.2.3', description: 'Stigmer', homepage: 'https://stigmer.ai', license: 'Apache-2.0', purl: 'pkg:github/stigmer/stigmer@v1.2.3' },
      sourceDateEpoch: 1700000000,
      binaries: [
        { component: 'stigmer', platform: 'windows-amd64', file: cli, sha256: sha(cli), contents: await describeBinary(cli) },
        { component: 'stigmer', platform: 'linux-arm64', file: cliLinux, sha256: sha(cliLinux), contents: await describeBinary(cliLinux) },
        { component: 'stigmer-server', platform: 'linux-amd64', file: server, sha256: sha(server), contents: await describeBinary(server) },
      ],
      upstream: [
        {
          component: 'temporal',
          platform: 'linux-amd64',
          name: 'temporal',
          version: '1.1.2',
          purl: 'pkg:github/temporalio/cli@v1.1.2',
          url: 'https://github.com/temporalio/cli/releases/download/v1.1.2/temporal_cli_1.1.2_linux_amd64.tar.gz',
          sha256: 'a'.repeat(64),
        },
      ],
      artifacts: [
        { name: 'stigmer_1.2.3_amd64.deb', sha256: 'b'.repeat(64), role: 'deb', contains: [{ component: 'stigmer-server', platform: 'linux-amd64' }, { component: 'temporal', platform: 'linux-amd64' }] },
        { name: 'stigmer_1.2.3_windows_amd64.zip', sha256: 'c'.repeat(64), role: 'cli-archive', contains: [{ component: 'stigmer', platform: 'windows-amd64' }] },
      ],
    };
  }

  it('validates against the CycloneDX 1.6 schema and lists the product, binaries, Go modules, Python distributions, Temporal and the artifacts', async () => {
    const dir = tempDir();
    const inp = await input(dir);
    const json = await buildSbom(inp);
    expect(await validateSbom(json)).toBeNull();
    const doc = JSON.parse(json) as {
      bomFormat: string;
      specVersion: string;
      serialNumber: string;
      metadata: { timestamp: string; component: { name: string; version: string; purl: string } };
      components: { 'bom-ref': string; type: string; name: string; version?: string; purl?: string; hashes?: { alg: string; content: string }[]; externalReferences?: { type: string; url: string }[] }[];
      dependencies: { ref: string; dependsOn?: string[] }[];
    };
    expect([doc.bomFormat, doc.specVersion]).toEqual(['CycloneDX', '1.6']);
    expect(doc.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(doc.metadata.timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(doc.metadata.component).toMatchObject({ name: 'stigmer', version: '1.2.3', purl: 'pkg:github/stigmer/stigmer@v1.2.3' });
    const byRef = new Map(doc.components.map((c) => [c['bom-ref'], c]));
    for (const b of inp.binaries) expect(byRef.get(`binary:${b.platform}:${b.component}`)?.hashes).toEqual([{ alg: 'SHA-256', content: b.sha256 }]);
    // The Go module the CLI was built from (one component, shared by both CLI binaries).
    const goMods = doc.components.filter((c) => c.purl?.startsWith('pkg:golang/') && c.name !== 'stdlib');
    expect(goMods.map((c) => c.purl)).toEqual([`pkg:golang/${MODULE_FIXTURE.dep.path}@${MODULE_FIXTURE.dep.version}`]);
    // ...and the Go standard library of the toolchain that linked it (the version `go version -m` prints).
    const goRelease = (await execa('go', ['env', 'GOVERSION'])).stdout.replace(/^go/, '');
    const stdlib = doc.components.find((c) => c.purl === `pkg:golang/stdlib@${goRelease}`)!;
    expect(stdlib).toBeDefined();
    const deps = new Map(doc.dependencies.map((d) => [d.ref, d.dependsOn ?? []]));
    expect(deps.get('binary:windows-amd64:stigmer')!.sort()).toEqual([goMods[0]!['bom-ref'], stdlib['bom-ref']].sort());
    expect(deps.get('binary:linux-arm64:stigmer')!.sort()).toEqual([goMods[0]!['bom-ref'], stdlib['bom-ref']].sort());
    // The frozen server's Python distributions.
    expect(doc.components.filter((c) => c.purl?.startsWith('pkg:pypi/')).map((c) => c.purl)).toEqual(['pkg:pypi/charset-normalizer@3.3.2', 'pkg:pypi/requests@2.31.0', 'pkg:pypi/temporalio@1.7.0']);
    // Three Python distributions, and the Go stdlib of this fixture's Go bootloader.
    expect(deps.get('binary:linux-amd64:stigmer-server')).toHaveLength(4);
    // Temporal CLI: purl, download URL, pinned hash.
    const temporal = byRef.get('upstream:linux-amd64:temporal')!;
    expect(temporal).toMatchObject({ name: 'temporal', version: '1.1.2', purl: 'pkg:github/temporalio/cli@v1.1.2', hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] });
    expect(temporal.externalReferences).toEqual([expect.objectContaining({ type: 'distribution', url: inp.upstream[0]!.url })]);
    // Packages and archives as files with their hashes, and what they contain.
    expect(byRef.get('artifact:stigmer_1.2.3_amd64.deb')).toMatchObject({ type: 'file', hashes: [{ alg: 'SHA-256', content: 'b'.repeat(64) }] });
    expect(deps.get('artifact:stigmer_1.2.3_amd64.deb')).toEqual(['binary:linux-amd64:stigmer-server', 'upstream:linux-amd64:temporal']);
    expect(deps.get('product:stigmer')!.sort()).toEqual(['binary:linux-amd64:stigmer-server', 'binary:linux-arm64:stigmer', 'binary:windows-amd64:stigmer', 'upstream:linux-amd64:temporal']);
  });

  it('is byte-reproducible, and its serial number follows its content', async () => {
    const dir = tempDir();
    const inp = await input(dir);
    const a = await buildSbom(inp);
    expect(await buildSbom(structuredClone(inp))).toBe(a);
    const b = await buildSbom({ ...inp, artifacts: inp.artifacts.map((x) => ({ ...x, sha256: x.sha256.replace(/^./, 'd') })) });
    expect(JSON.parse(b).serialNumber).not.toBe(JSON.parse(a).serialNumber);
  });

  it('a schema violation is reported (the validator is live, not a stub)', async () => {
    const dir = tempDir();
    const doc = JSON.parse(await buildSbom(await input(dir))) as { components: { type: string }[] };
    doc.components[0]!.type = 'not-a-type';
    expect(await validateSbom(JSON.stringify(doc))).not.toBeNull();
  });
});

// The sbom target in a real (snapshot) build: a release asset listed in SHA256SUMS, valid, naming every archive
// and package with the digest SHA256SUMS gives, the stand-ins' Go build info, and byte-identical when rebuilt.
describe('the sbom target', () => {
  it('builds <product>_<version>.cdx.json: valid, every asset with its digest, listed in SHA256SUMS, reproducible', async () => {
    const outs = [tempDir(), tempDir()];
    const args = (out: string) => ['build', '--snapshot', '-p', 'linux-amd64,windows-amd64', '-t', 'archive,deb,sbom,checksums', '--version', '0.1.0', '--out', out];
    for (const out of outs) {
      const r = await runCli(args(out));
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const dist = path.join(outs[0]!, '0.1.0');
    const json = readFileSync(path.join(dist, 'stigmer_0.1.0.cdx.json'), 'utf8');
    expect(readFileSync(path.join(outs[1]!, '0.1.0', 'stigmer_0.1.0.cdx.json'), 'utf8')).toBe(json);
    expect(await validateSbom(json)).toBeNull();

    const sums = new Map(readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => [l.slice(66), l.slice(0, 64)] as const));
    expect(sums.get('stigmer_0.1.0.cdx.json')).toBe(createHash('sha256').update(json).digest('hex'));
    type Cdx = { metadata: { component: { name: string; version: string } }; components: { 'bom-ref': string; name: string; hashes?: { alg: string; content: string }[]; components?: { name: string }[] }[] };
    const doc = JSON.parse(json) as Cdx;
    expect(doc.metadata.component).toMatchObject({ name: 'stigmer', version: '0.1.0' });
    const files = new Map(doc.components.filter((c) => c['bom-ref'].startsWith('artifact:')).map((c) => [c.name, c.hashes?.find((h) => h.alg === 'SHA-256')?.content]));
    const assets = [...sums.keys()].filter((n) => /\.(tar\.gz|zip|deb|rpm|msi)$/.test(n));
    expect(assets.length).toBeGreaterThan(4);
    for (const a of assets) expect(files.get(a), a).toBe(sums.get(a));
    // The stand-ins are Go programs (GOPATH mode: no modules): each binary records the Go version from its build info.
    type Prop = { name: string; value: string };
    const binaries = (doc.components as unknown as { 'bom-ref': string; properties?: Prop[] }[]).filter((c) => c['bom-ref'].startsWith('binary:'));
    expect(binaries.map((b) => b['bom-ref'])).toContain('binary:windows-amd64:stigmer');
    for (const b of binaries) expect(b.properties?.find((p) => p.name.endsWith(':go:version'))?.value, b['bom-ref']).toMatch(/^go1\./);
    // Two full snapshot builds of the real definition (its payloads are large).
  }, 400_000);
});
