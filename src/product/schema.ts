// The product definition schema. The TypeScript types of the model are inferred from this one
// schema (z.infer), so there is no second hand-written copy to drift.
import * as z from 'zod';
import {
  absolutePath, accountName, assetPattern, componentName, displayName, envName, freeText, githubOwner, githubRepo, githubSlug, homebrewTap,
  httpsUrl, launchdPrefix, timestampUrl, license, maintainer, portName, relativePath, upstreamVersion, vendor, wingetId,
} from './fields.ts';

export const SCHEMA_VERSION = 1;

export const PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64'] as const;
export type Platform = (typeof PLATFORMS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (a sha256 digest)');
const guid = z
  .string()
  .regex(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/, 'must be an upper-case GUID like 8E5B3C1A-1F2D-4C3B-9A7E-2D6F0B4C5A11');
const port = z.number().int().min(1).max(65535);
const signal = z.enum(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']);

const portSpec = z.strictObject({
  name: portName,
  port,
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
});

const healthCheck = z.strictObject({
  // "http": GET path answers 2xx; "tcp": the port accepts a connection.
  type: z.enum(['http', 'tcp']).default('http'),
  port: portName.describe('name of one of this service\'s ports'),
  path: z.string().regex(/^\/[A-Za-z0-9._~\/+-]*$/, 'must be a URL path starting with "/" (letters, digits, ".", "_", "~", "/", "+", "-"; it is written into health checks and scripts)').default('/healthz'),
  intervalSeconds: z.number().int().min(1).default(10),
  timeoutSeconds: z.number().int().min(1).default(3),
});

const serviceSpec = z.strictObject({
  // Name used for the systemd unit, the Homebrew formula, the launchd label suffix and the Windows service.
  name: componentName.optional(),
  description: freeText(1, 1000),
  // Arguments after the binary. Placeholders: {stateDir} {logsDir} {runtimeDir} {configDir} {port:NAME}.
  args: z.array(freeText(0, 4096)).max(256).default([]),
  env: z.record(envName, freeText(0, 4096)).default({}),
  secrets: z.array(envName).default([]),
  ports: z.array(portSpec).default([]),
  after: z.array(componentName).default([]),
  health: healthCheck.optional(),
  stop: z
    .strictObject({ signal: signal.default('SIGTERM'), timeoutSeconds: z.number().int().min(1).max(3600).default(30) })
    .default({ signal: 'SIGTERM', timeoutSeconds: 30 }),
  restart: z
    .strictObject({
      policy: z.enum(['always', 'on-failure', 'never']).default('on-failure'),
      delaySeconds: z.number().int().min(0).max(3600).default(2),
    })
    .default({ policy: 'on-failure', delaySeconds: 2 }),
});

const upstreamAsset = z.strictObject({
  // https; plain http only to a loopback host (a local mirror or a test server).
  url: z.string().url('must be an https URL').regex(/^[A-Za-z0-9._~:/?#[\]@!&()*+,;=%-]+$/, 'must be a plain URL (no spaces, quotes, "$", "`" or "\\": it is downloaded and recorded as is)').refine((u) => u.startsWith('https://') || /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(u), 'must use https'),
  sha256,
  // Path of the binary inside the downloaded archive; omit when the URL is the bare binary.
  member: relativePath.optional(),
});

const componentSpec = z.strictObject({
  name: componentName,
  description: freeText(1, 1000),
  language: z.enum(['go', 'python', 'upstream', 'other']),
  // Installed executable name (without .exe); defaults to the component name.
  binary: componentName.optional(),
  // A PyInstaller one-file payload: never stripped, needs a writable, exec-able TMPDIR to unpack into.
  frozen: z.boolean().default(false),
  // Command (arguments) that proves the payload starts; run before packaging.
  smoke: z.array(freeText(0, 4096)).max(64).default(['--version']),
  platforms: z.array(z.enum(PLATFORMS)).optional(),
  upstream: z
    .strictObject({
      version: upstreamVersion,
      // The upstream program's command-line contract (src/product/contract.ts), a YAML file relative to the
      // definition: service.args are checked against it at plan time and the snapshot stand-in enforces it.
      contract: z
        .string()
        .regex(/^[A-Za-z0-9_.\/-]+\.ya?ml$/, 'must be a relative path to a .yaml file like "contracts/temporal-1.8.2.yaml"')
        .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must stay beside the definition: a relative path without ".."')
        .optional(),
      assets: z.partialRecord(z.enum(PLATFORMS), upstreamAsset),
    })
    .optional(),
  service: serviceSpec.optional(),
  // Windows: how the service manager (SCM) runs this component's service. The SCM kills a program that does
  // not answer its control protocol (error 1053). "wrapper" (default): the MSI's service host (winsvc/) runs
  // the program, passes the env file, logs and restarts; "native": the program itself is registered and must
  // speak the protocol (Go: golang.org/x/sys/windows/svc; Python: pywin32 servicemanager).
  windows: z.strictObject({ service: z.enum(['wrapper', 'native']).default('wrapper') }).optional(),
  // Where the release workflow builds this binary from, in the release.github repository: a Go package
  // (default ./cmd/NAME) or, for language python, a PyInstaller spec (default NAME.spec).
  source: z
    .strictObject({
      path: z
        .string()
        .regex(/^[A-Za-z0-9_.\/-]+$/, 'must be a path like "./cmd/stigmer-server" or "agent-runner.spec" (letters, digits, "_", ".", "/", "-")')
        .refine((p) => !p.split('/').includes('..'), 'must stay inside the source repository: remove ".." segments'),
    })
    .optional(),
});

const extraFile = z.strictObject({
  src: relativePath.describe('path relative to the definition file'),
  dest: relativePath.describe('path relative to the install prefix'),
  // Never writable by others: the file is installed as root under /usr.
  mode: z.string().regex(/^0[0-7][0-7][0145]$/, 'must be an octal mode like "0644" that others cannot write (the file is installed by root)').default('0644'),
});

// Linux packages built by the deb and rpm targets.
const linuxPackages = z.strictObject({
  deb: z
    .strictObject({
      // Compression of the .deb's control.tar and data.tar: xz (dpkg >= 1.15.6), gzip (any dpkg) or zstd
      // (dpkg >= 1.21.18: Debian 12+, Ubuntu 21.10+).
      compression: z.enum(['xz', 'gzip', 'zstd']).default('xz'),
      section: z.string().regex(/^([a-z][a-z0-9-]*\/)?[a-z][a-z0-9-]*$/, 'must be a Debian archive section like "net" or "admin"').default('net'),
    })
    .prefault({}),
});

export const productDefinitionSchema = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION, { error: `must be ${SCHEMA_VERSION}` }),
  product: z.strictObject({
    name: componentName.max(40, 'must be at most 40 characters (the winget Moniker)'),
    displayName,
    version: z.string().min(1).max(64),
    summary: freeText(3, 80),
    description: freeText(3, 10000),
    homepage: httpsUrl,
    license: license.describe('SPDX expression'),
    maintainer,
    vendor,
  }),
  identifiers: z.strictObject({
    launchdPrefix,
    msiUpgradeCode: guid,
    wingetId,
  }),
  release: z.strictObject({
    github: z.strictObject({ owner: githubOwner, repo: githubRepo }),
    // GitHub Actions runner label that builds each platform natively in the release workflow (the build
    // matrix of `plan --json`); platforms not listed use the defaults in src/plan/matrix.ts.
    runners: z
      .partialRecord(z.enum(PLATFORMS), z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a GitHub Actions runner label like "ubuntu-24.04"'))
      .optional(),
    // How many release-workflow jobs share each Linux platform's package compression (`compress --shard I/N`,
    // the package job then only assembles); 1: the package job compresses alone.
    compressJobs: z.number().int().min(1, 'must be at least 1 (1: no separate compress jobs)').max(16, 'must be at most 16').default(1),
    // Asset name pattern; placeholders {name} {version} {os} {arch}.
    archiveName: assetPattern(['name', 'version', 'os', 'arch'], ['name', 'version', 'os', 'arch']).default('{name}_{os}_{arch}_{version}'),
    homebrewTap,
    // `build --from github:OWNER/REPO@TAG`: the release asset holding each payload, matched per component and
    // platform. Placeholders {name} {binary} {version} {os} {arch} {ext} (".exe" on Windows); "*" matches
    // anything. A bare binary or an archive (tar.gz, zip) holding a file named like the binary.
    payloadAsset: assetPattern(['name', 'binary', 'version', 'os', 'arch', 'ext'], ['name|binary'], '*').default('{binary}_{os}_{arch}{ext}'),
    // `publish`: the winget-pkgs fork the manifests are pushed to (a pull request goes to `upstream`).
    winget: z
      .strictObject({
        fork: githubSlug,
        upstream: githubSlug.default('microsoft/winget-pkgs'),
      })
      .optional(),
    // Authenticode: the RFC 3161 time-stamping service of the Windows signatures (builds with a real key only;
    // --authenticode-timestamp-url and $STIGMER_DIST_AUTHENTICODE_TIMESTAMP_URL override it).
    authenticode: z.strictObject({ timestampUrl }).optional(),
    // Where the signed APT/YUM repository tree (apt/, yum/) is served; used in the client .list/.repo files.
    repository: z
      .strictObject({ url: httpsUrl })
      .optional(),
  }),
  platforms: z.array(z.enum(PLATFORMS)).min(1),
  install: z.strictObject({
    user: accountName,
    group: accountName,
    configDir: absolutePath,
    envFile: absolutePath,
    // Directory names below /var/lib, /var/log, /run (systemd StateDirectory= style).
    stateDir: componentName,
    logsDir: componentName,
  }),
  files: z.array(extraFile).default([]),
  linux: linuxPackages.prefault({}),
  components: z.array(componentSpec).min(1),
});

export type ProductDefinition = z.infer<typeof productDefinitionSchema>;
export type ComponentSpec = ProductDefinition['components'][number];
export type ServiceSpec = NonNullable<ComponentSpec['service']>;
export type HealthCheckSpec = NonNullable<ServiceSpec['health']>;
export type PortSpec = ServiceSpec['ports'][number];
