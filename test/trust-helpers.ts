// Go binaries for the trust-chain tests (Authenticode, SBOM build info): the stand-in (standin/, built as
// src/payloads/standin.ts builds it: GOPATH mode, no go.mod, fixed import path) and a module program with a
// dependency module (a local `replace`, so it builds offline), for ELF, Mach-O and PE. Built and cached by test/go-programs.ts.
import { bundleToJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { STANDIN_IMPORT_PATH, STANDIN_SOURCE_DIR } from '../src/payloads/standin.ts';
import { buildGoProgram, goSourceDigests } from '../src/util/go-build.ts';
import { goBuild, goCacheDir as cacheDir, goVersion, TEST_GOCACHE } from './go-programs.ts';

export const GO_TARGETS = [
  { goos: 'linux', goarch: 'amd64', format: 'elf' },
  { goos: 'linux', goarch: 'arm64', format: 'elf' },
  { goos: 'darwin', goarch: 'arm64', format: 'macho' },
  { goos: 'windows', goarch: 'amd64', format: 'pe' },
] as const;
export type GoTarget = (typeof GO_TARGETS)[number];

/** The module program's main module and its one dependency (what `go version -m` must list). */
export const MODULE_FIXTURE = { path: 'example.com/trustfixture', dep: { path: 'example.com/greet', version: 'v1.4.2' } } as const;

const MODULE_SOURCES: Record<string, string> = {
  'go.mod': `module ${MODULE_FIXTURE.path}\n\ngo 1.19\n\nrequire ${MODULE_FIXTURE.dep.path} ${MODULE_FIXTURE.dep.version}\n\nreplace ${MODULE_FIXTURE.dep.path} => ./greet\n`,
  'main.go': `package main\n\nimport (\n\t"fmt"\n\n\t"${MODULE_FIXTURE.dep.path}"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n`,
  'greet/go.mod': `module ${MODULE_FIXTURE.dep.path}\n\ngo 1.19\n`,
  'greet/greet.go': 'package greet\n\nfunc Hello() string { return "hello" }\n',
};

const suffix = (t: GoTarget) => `${t.goos}-${t.goarch}${t.goos === 'windows' ? '.exe' : ''}`;

/** The module program for `t` (stripped as releases are: -s -w keeps the build info). */
export async function moduleBinary(t: GoTarget): Promise<string> {
  const sources = JSON.stringify(MODULE_SOURCES);
  const dir = cacheDir('module', sources, await goVersion());
  const src = path.join(dir, 'src');
  for (const [name, text] of Object.entries(MODULE_SOURCES)) {
    mkdirSync(path.dirname(path.join(src, name)), { recursive: true });
    writeFileSync(path.join(src, name), text);
  }
  return goBuild(src, t, path.join(dir, `trustfixture-${suffix(t)}`), { GO111MODULE: 'on' }, '-s -w -buildid=');
}

/** The stand-in payload program for `t`, built like src/payloads/standin.ts builds it (no config baked in). */
export async function standinBinary(t: GoTarget): Promise<string> {
  const sources = JSON.stringify(await goSourceDigests({ sourceDir: STANDIN_SOURCE_DIR, importPath: STANDIN_IMPORT_PATH, what: 'the test stand-in' }));
  const dir = cacheDir('standin-fixed-import-path', sources, await goVersion());
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `standin-${suffix(t)}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  await buildGoProgram({ sourceDir: STANDIN_SOURCE_DIR, importPath: STANDIN_IMPORT_PATH, goos: t.goos, goarch: t.goarch, goCache: TEST_GOCACHE, out: tmp, what: 'the test stand-in' });
  renameSync(tmp, out);
  return out;
}

// Sigstore bundles signed with a test key (cosign sign-blob --key --bundle writes the same shape).
/** An EC P-256 test key pair; the public key as a PEM file. */
export function keyPair(dir: string, name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = path.join(dir, `${name}.pub`);
  writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateKey, keyFile };
}

let bundles = 0;

/** What `cosign sign-blob --key` writes with --bundle (message signature, public key hint, v0.3). */
export function makeBundle(dir: string, data: Buffer, privateKey: ReturnType<typeof keyPair>['privateKey'], opts: { digestOf?: Buffer } = {}): string {
  const bundle = toMessageSignatureBundle({
    digest: createHash('sha256').update(opts.digestOf ?? data).digest(),
    signature: sign('sha256', data, privateKey),
    keyHint: 'test-key',
  });
  const file = path.join(dir, `SHA256SUMS.${++bundles}.sigstore.json`);
  writeFileSync(file, JSON.stringify(bundleToJSON(bundle), null, 2));
  return file;
}

