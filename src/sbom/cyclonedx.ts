// One CycloneDX 1.6 JSON document per release, built with @cyclonedx/cyclonedx-library: the product; every
// component binary per platform with its sha256, the Go modules it was built from (Go build info) and the Python
// distributions a PyInstaller one-file binary bundles; upstream components (Temporal CLI) with purl, download URL
// and pinned hash; every package and archive as a file with its hash. Reproducible: sorted lists, the timestamp is
// SOURCE_DATE_EPOCH and the serial number is a name-based UUID of the document's content.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { uuidV5 } from '../util/uuid.ts';
import { fileReader, NeedleScanner } from './bytes.ts';
import { binaryFormat, GO_BUILDINFO_MAGIC, goBuildInfoAt, type BinaryFormat, type GoBuildInfo, type GoModule } from './go-buildinfo.ts';
import { cArchiveAt, PYINSTALLER_COOKIE_MAGIC, pythonDistributions, type PythonDistribution } from './pyinstaller.ts';

/** Namespace of the SBOM serial numbers (a fixed, random GUID: only its stability matters). */
const SBOM_NAMESPACE = '5B0E2E43-2A43-4C1A-9F55-6C2E8D0B7A11';

export interface BinaryContents {
  format: BinaryFormat;
  go?: GoBuildInfo;
  python?: { version: number; distributions: PythonDistribution[] };
}

/** What a payload binary was built from, read from its bytes (any OS/arch). */
export async function describeBinary(file: string): Promise<BinaryContents> {
  return (await describeArchivedBinary(file)).contents;
}

/**
 * A binary as a release archive holds it: its sha256 and what it was built from. One streaming read finds the
 * Go build-info headers and PyInstaller cookies; only the small windows around them are read again.
 */
export async function describeArchivedBinary(file: string): Promise<{ sha256: string; contents: BinaryContents }> {
  const sha = createHash('sha256');
  const scanner = new NeedleScanner([GO_BUILDINFO_MAGIC, PYINSTALLER_COOKIE_MAGIC]);
  const fh = await open(file, 'r');
  try {
    let size = 0;
    for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      sha.update(chunk);
      scanner.update(chunk);
      size += chunk.length;
    }
    const reader = fileReader(fh.fd, size);
    const [goHeaders, cookies] = scanner.positions as [number[], number[]];
    const contents: BinaryContents = { format: binaryFormat(reader.read(0, 4)) };
    const go = goBuildInfoAt(reader, goHeaders);
    if (go) contents.go = go;
    const archive = cArchiveAt(reader, cookies);
    if (archive) contents.python = { version: archive.pythonVersion, distributions: pythonDistributions(reader, archive) };
    return { sha256: sha.digest('hex'), contents };
  } finally {
    await fh.close();
  }
}

export interface SbomInput {
  product: { name: string; version: string; description?: string; homepage?: string; license?: string; purl?: string; supplier?: string };
  sourceDateEpoch: number;
  /** Component binaries per platform (what the packages install). */
  binaries: { component: string; platform: string; file: string; sha256: string; contents: BinaryContents }[];
  /** Prebuilt upstream components, pinned by digest. */
  upstream: { component: string; platform: string; name: string; version: string; purl: string; url: string; sha256: string }[];
  /** Release assets: packages and archives. `contains` names the binaries inside (component + platform). */
  artifacts: { name: string; sha256: string; role: string; contains?: { component: string; platform: string }[] }[];
}

const PROP = 'stigmer-dist';

export async function buildSbom(input: SbomInput): Promise<string> {
  const CDX = await import('@cyclonedx/cyclonedx-library');
  const { Models, Enums } = CDX;
  const sha = (hex: string) => new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], hex]]);
  const props = (o: Record<string, string | undefined>) => new Models.PropertyRepository(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => new Models.Property(`${PROP}:${k}`, v!)));

  const bom = new Models.Bom();
  const product = new Models.Component(Enums.ComponentType.Application, input.product.name, {
    bomRef: `product:${input.product.name}`,
    version: input.product.version,
    description: input.product.description,
    purl: input.product.purl,
  });
  if (input.product.homepage) product.externalReferences.add(new Models.ExternalReference(input.product.homepage, Enums.ExternalReferenceType.Website));
  if (input.product.license) product.licenses.add(new Models.SpdxLicense(input.product.license));
  bom.metadata.component = product;
  bom.metadata.timestamp = new Date(input.sourceDateEpoch * 1000);
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'stigmer-dist'));
  if (input.product.supplier) bom.metadata.supplier = new Models.OrganizationalEntity({ name: input.product.supplier });

  // Libraries are shared across binaries: one component per module version, referenced by each binary.
  const libraries = new Map<string, InstanceType<typeof Models.Component>>();
  const library = (ref: string, make: () => InstanceType<typeof Models.Component>) => {
    let c = libraries.get(ref);
    if (!c) {
      c = make();
      libraries.set(ref, c);
      bom.components.add(c);
    }
    return c;
  };
  const goModule = (m: GoModule) => {
    // A replacement by another module version is what was built; a replacement by a local directory
    // ("=> ./greet (devel)") keeps the required module's identity and says where the code came from.
    const local = m.replace !== undefined && /^(\.|\/|[A-Za-z]:)/.test(m.replace.path);
    const built = m.replace && !local ? { path: m.replace.path, version: m.replace.version ?? m.version } : { path: m.path, version: m.version };
    const ref = `go:${built.path}@${built.version}${local ? `=>${m.replace!.path}` : ''}`;
    return library(
      ref,
      () =>
        new Models.Component(Enums.ComponentType.Library, built.path, {
          bomRef: ref,
          version: built.version,
          purl: `pkg:golang/${encodePurlPath(built.path)}@${encodeURIComponent(built.version)}`,
          properties: props({ 'go:sum': m.replace?.sum ?? m.sum, 'go:replaced': m.replace && !local ? `${m.path}@${m.version}` : undefined, 'go:replaced-by-directory': local ? m.replace!.path : undefined }),
        }),
    );
  };

  const binaryRefs = new Map<string, InstanceType<typeof Models.Component>>();
  for (const b of input.binaries) {
    const c = new Models.Component(Enums.ComponentType.Application, b.component, {
      bomRef: `binary:${b.platform}:${b.component}`,
      version: input.product.version,
      hashes: sha(b.sha256),
      properties: props({
        platform: b.platform,
        'binary-format': b.contents.format,
        'go:version': b.contents.go?.goVersion,
        'go:path': b.contents.go?.path,
        'go:main-module': b.contents.go?.main ? `${b.contents.go.main.path}@${b.contents.go.main.version}` : undefined,
        ...Object.fromEntries(Object.entries(b.contents.go?.settings ?? {}).filter(([k]) => /^(GOOS|GOARCH|CGO_ENABLED|-trimpath|vcs\.revision|vcs\.time|vcs\.modified)$/.test(k)).map(([k, v]) => [`go:build:${k}`, v])),
        'python:version': b.contents.python ? `${Math.floor(b.contents.python.version / 100)}.${b.contents.python.version % 100}` : undefined,
      }),
    });
    for (const m of b.contents.go?.deps ?? []) c.dependencies.add(goModule(m).bomRef);
    // The Go standard library is linked in too, and is where most Go vulnerabilities are (govulncheck, syft: pkg:golang/stdlib).
    const goRelease = /^go(\d+\.\d+(?:\.\d+)?)/.exec(b.contents.go?.goVersion ?? '')?.[1];
    if (goRelease) {
      const ref = `go:stdlib@${goRelease}`;
      c.dependencies.add(library(ref, () => new Models.Component(Enums.ComponentType.Library, 'stdlib', { bomRef: ref, version: goRelease, purl: `pkg:golang/stdlib@${goRelease}` })).bomRef);
    }
    for (const d of b.contents.python?.distributions ?? []) {
      const ref = `pypi:${d.name.toLowerCase()}@${d.version}`;
      c.dependencies.add(
        library(ref, () => new Models.Component(Enums.ComponentType.Library, d.name, { bomRef: ref, version: d.version, purl: `pkg:pypi/${encodeURIComponent(d.name.toLowerCase().replace(/[-_.]+/g, '-'))}@${encodeURIComponent(d.version)}` })).bomRef,
      );
    }
    bom.components.add(c);
    binaryRefs.set(`${b.platform}:${b.component}`, c);
    product.dependencies.add(c.bomRef);
  }
  for (const u of input.upstream) {
    const c = new Models.Component(Enums.ComponentType.Application, u.name, {
      bomRef: `upstream:${u.platform}:${u.component}`,
      version: u.version,
      purl: u.purl,
      hashes: sha(u.sha256),
      properties: props({ platform: u.platform, component: u.component }),
    });
    c.externalReferences.add(new Models.ExternalReference(u.url, Enums.ExternalReferenceType.Distribution, { hashes: sha(u.sha256) }));
    bom.components.add(c);
    binaryRefs.set(`${u.platform}:${u.component}`, c);
    product.dependencies.add(c.bomRef);
  }
  for (const a of input.artifacts) {
    const c = new Models.Component(Enums.ComponentType.File, a.name, { bomRef: `artifact:${a.name}`, hashes: sha(a.sha256), properties: props({ role: a.role }) });
    for (const inside of a.contains ?? []) {
      const b = binaryRefs.get(`${inside.platform}:${inside.component}`);
      if (!b) throw new Error(`internal: SBOM artifact ${a.name} contains ${inside.component} for ${inside.platform}, which is not a listed binary`);
      c.dependencies.add(b.bomRef);
    }
    bom.components.add(c);
  }

  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  // The serial number is derived from the document without it, so the same inputs give the same number.
  bom.serialNumber = undefined;
  const body = serializer.serialize(bom, { sortLists: true, space: 2 });
  bom.serialNumber = `urn:uuid:${uuidV5(SBOM_NAMESPACE, body).toLowerCase()}`;
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

/** purl path segments are percent-encoded one by one; the slashes between them stay. */
function encodePurlPath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** Validates a CycloneDX 1.6 JSON document against the schema the library ships (offline). Returns the errors, or null. */
export async function validateSbom(json: string): Promise<unknown> {
  const CDX = await import('@cyclonedx/cyclonedx-library');
  const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
  return validator.validate(json);
}
