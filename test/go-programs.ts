// Real executables for the tests: tiny Go programs cross-compiled (CGO_ENABLED=0) for any platform, so every
// payload a test packages is an ELF, Mach-O or PE of its platform, as the payload check requires. Builds are
// cached per machine under the OS temp dir, keyed by the sources and the Go version, and written
// temp-then-rename so test files building at the same time never see half a file.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { splitPlatform, type Platform } from '../src/product/model.ts';

export interface GoTarget {
  goos: string;
  goarch: string;
}

let version: Promise<string> | undefined;
export function goVersion(): Promise<string> {
  version ??= execa('go', ['version']).then((r) => r.stdout);
  return version;
}

/** Go's own build cache for the tests (content-addressed, safe to share between processes): compiling the
 * standard library for a platform takes many seconds, so it is kept across runs. */
export const TEST_GOCACHE = path.join(os.tmpdir(), 'stigmer-dist-go-fixtures', 'go-build');

/** The cache folder of one kind of program, for these sources and this Go version. */
export function goCacheDir(kind: string, sources: string, go: string): string {
  return path.join(os.tmpdir(), 'stigmer-dist-go-fixtures', kind, createHash('sha256').update(sources + go).digest('hex').slice(0, 16));
}

/** `go build` of the package in `cwd` for `t` into `out`, unless `out` exists. */
export async function goBuild(cwd: string, t: GoTarget, out: string, env: Record<string, string>, ldflags: string): Promise<string> {
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  await execa('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', tmp, '.'], {
    cwd,
    env: { CGO_ENABLED: '0', GOOS: t.goos, GOARCH: t.goarch, GOFLAGS: '', GOPROXY: 'off', ...env },
  });
  renameSync(tmp, out);
  return out;
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp-${process.pid}`, text);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

/** Prints "fixture 0.0.0" for --version (what the smoke check runs on the host's payloads) and exits 0. */
const FIXTURE_SOURCE = `package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("fixture 0.0.0")
		return
	}
	fmt.Println("fixture payload")
}
`;

/**
 * The fixture program for a platform (stripped as releases are; `unstripped` keeps the symbol table, which
 * lintian and rpmlint report). The path of the cached build: copy it, never write to it.
 */
export async function fixtureProgram(platform: Platform, opts: { unstripped?: boolean } = {}): Promise<string> {
  const dir = goCacheDir('fixture', FIXTURE_SOURCE, await goVersion());
  const src = path.join(dir, 'src');
  if (!existsSync(path.join(src, 'go.mod'))) {
    mkdirSync(src, { recursive: true });
    writeAtomic(path.join(src, 'main.go'), FIXTURE_SOURCE);
    writeAtomic(path.join(src, 'go.mod'), 'module fixture\n\ngo 1.19\n'); // last: its presence means the sources are complete
  }
  const { os: goos, arch: goarch } = splitPlatform(platform);
  const name = `fixture-${platform}${opts.unstripped ? '-unstripped' : ''}`;
  return goBuild(src, { goos, goarch }, path.join(dir, name), {}, opts.unstripped ? '-buildid=' : '-s -w -buildid=');
}

/**
 * A distinct copy of the platform's fixture program: `label` (e.g. component and platform) is appended after
 * the image as a line of text, which loaders ignore.
 */
export async function fixtureExecutable(platform: Platform, label: string, opts: { unstripped?: boolean } = {}): Promise<Buffer> {
  return Buffer.concat([await readFile(await fixtureProgram(platform, opts)), Buffer.from(`\n${label}\n`)]);
}
