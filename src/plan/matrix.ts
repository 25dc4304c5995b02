// The release workflow's build matrix, derived from the plan's platforms and the definition (pure): one entry per
// platform with the GitHub Actions runner that builds it natively and what to build there. The workflow reads it
// from `stigmer-dist plan --json` (.matrix), so the platform list is written down once: in the definition.
import { exeName, splitPlatform, type Arch, type Os, type Platform, type Product } from '../product/model.ts';
import type { Versions } from '../version.ts';

/** Runner labels used when the definition's release.runners does not name one (GitHub-hosted, native arch). */
export const DEFAULT_RUNNERS: Record<Platform, string> = {
  'linux-amd64': 'ubuntu-24.04',
  'linux-arm64': 'ubuntu-24.04-arm',
  'darwin-amd64': 'macos-13',
  'darwin-arm64': 'macos-14',
  'windows-amd64': 'windows-2022',
};

export interface BuildStep {
  component: string;
  /** `go build` a Go package, or `pyinstaller` a spec (a frozen Python component). */
  kind: 'go' | 'pyinstaller';
  /** Go package or PyInstaller spec, relative to the source repository. */
  source: string;
  /** File name the job writes below payload/<platform>/ (the `build --from DIR` layout; .exe on Windows). */
  output: string;
  /** Arguments that prove the binary starts (component.smoke), run on the runner right after the build. */
  smoke: string[];
}

export interface MatrixEntry {
  platform: Platform;
  os: Os;
  arch: Arch;
  runner: string;
  /** GOOS/GOARCH for `go build`. */
  goos: string;
  goarch: string;
  builds: BuildStep[];
  /** Whether the job needs Go / Python set up. */
  go: boolean;
  python: boolean;
  /** Components pinned upstream: not built, downloaded by `build --from` in the package job. */
  upstream: string[];
  /** How many `compress --shard` jobs prepare this platform's package compression (0: the package job does it). */
  compressJobs: number;
}

/** One `compress --platform P --shard I/N` job of the release workflow. */
export interface CompressEntry {
  platform: Platform;
  shard: string;
}

export interface BuildMatrix {
  /** The repository (owner/repo) and tag the build jobs check out and compile. */
  source: { repository: string; ref: string };
  include: MatrixEntry[];
  /** The compress jobs (release.compressJobs > 1): each platform's share of its package compression. */
  compress: CompressEntry[];
}

function sourceOf(product: Product, component: string, language: string): string {
  const explicit = product.def.components.find((c) => c.name === component)?.source?.path;
  if (explicit) return explicit;
  return language === 'python' ? `${component}.spec` : `./cmd/${component}`;
}

export function runnerFor(product: Product, platform: Platform): string {
  return product.def.release.runners?.[platform] ?? DEFAULT_RUNNERS[platform];
}

/** `compresses(P)`: whether P's planned packages compress payloads through the xz content cache. */
export function buildMatrix(product: Product, versions: Versions, platforms: Platform[], compresses: (platform: Platform) => boolean = () => false): BuildMatrix {
  const { owner, repo } = product.def.release.github;
  const jobs = product.def.release.compressJobs;
  const compressJobs = (platform: Platform) => (jobs > 1 && compresses(platform) ? jobs : 0);
  const include = platforms.map((platform): MatrixEntry => {
    const { os, arch } = splitPlatform(platform);
    const here = product.components.filter((c) => c.platforms.includes(platform));
    const builds = here
      .filter((c) => !c.upstream && (c.language === 'go' || c.language === 'python'))
      .map((c): BuildStep => ({
        component: c.name,
        kind: c.language === 'go' ? 'go' : 'pyinstaller',
        source: sourceOf(product, c.name, c.language),
        output: exeName(c.binary, platform),
        smoke: [...c.smoke],
      }));
    return {
      platform,
      os,
      arch,
      runner: runnerFor(product, platform),
      goos: os,
      goarch: arch,
      builds,
      go: builds.some((b) => b.kind === 'go'),
      python: builds.some((b) => b.kind === 'pyinstaller'),
      upstream: here.filter((c) => c.upstream).map((c) => c.name),
      compressJobs: compressJobs(platform),
    };
  });
  const compress = include.flatMap(({ platform, compressJobs: n }) => Array.from({ length: n }, (_, i): CompressEntry => ({ platform, shard: `${i + 1}/${n}` })));
  return { source: { repository: `${owner}/${repo}`, ref: versions.tag }, include, compress };
}
