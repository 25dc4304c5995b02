// The release workflow's build matrix in `plan --json` (src/plan/matrix.ts): runners from the definition,
// per-platform builds from the components, and the two definition fields it reads validated like the rest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct, parseProduct } from '../src/product/load.ts';
import { makePlan } from '../src/plan/plan.ts';
import { DEFAULT_RUNNERS } from '../src/plan/matrix.ts';
import { ACME_YAML, STIGMER_YAML, runCli, definitionProblems } from './helpers.ts';

const base = readFileSync(STIGMER_YAML, 'utf8');
const FILE = path.join(path.dirname(STIGMER_YAML), 'broken.yaml');

const problemsOf = (text: string) => definitionProblems(() => parseProduct(text, FILE));

describe('build matrix', () => {
  it('stigmer: one entry per platform on the runner the definition names, upstream components not built', () => {
    const product = loadProduct(STIGMER_YAML);
    const { matrix } = makePlan(product, { version: '1.2.3', snapshot: false });
    expect(matrix.source).toEqual({ repository: 'stigmer/stigmer', ref: 'v1.2.3' });
    expect(matrix.include.map((e) => [e.platform, e.runner])).toEqual([
      ['linux-amd64', 'ubuntu-24.04'],
      ['linux-arm64', 'ubuntu-24.04-arm'],
      ['darwin-amd64', 'macos-13'],
      ['darwin-arm64', 'macos-14'],
      ['windows-amd64', 'windows-2022'],
    ]);
    const win = matrix.include.find((e) => e.platform === 'windows-amd64')!;
    expect(win).toMatchObject({ goos: 'windows', goarch: 'amd64', go: true, python: true, upstream: ['temporal'] });
    expect(win.builds).toEqual([
      { component: 'stigmer', kind: 'go', source: './cmd/stigmer', output: 'stigmer.exe', smoke: ['--version'] },
      { component: 'stigmer-server', kind: 'go', source: './cmd/stigmer-server', output: 'stigmer-server.exe', smoke: ['--version'] },
      { component: 'workflow-runner', kind: 'go', source: './cmd/workflow-runner', output: 'workflow-runner.exe', smoke: ['--version'] },
      { component: 'agent-runner', kind: 'pyinstaller', source: 'agent-runner.spec', output: 'agent-runner.exe', smoke: ['--version'] },
    ]);
  });

  it('acme: default runners, per-component platforms and smoke commands, --platform narrows it', () => {
    const product = loadProduct(ACME_YAML);
    const { matrix } = makePlan(product, { version: '2.4.0', snapshot: false, platforms: ['windows-amd64', 'darwin-arm64'] });
    expect(matrix.source).toEqual({ repository: 'acme-corp/relay', ref: 'v2.4.0' });
    expect(matrix.include.map((e) => [e.platform, e.runner])).toEqual([
      ['darwin-arm64', DEFAULT_RUNNERS['darwin-arm64']],
      ['windows-amd64', DEFAULT_RUNNERS['windows-amd64']],
    ]);
    const win = matrix.include.find((e) => e.platform === 'windows-amd64')!;
    // The metrics sidecar does not ship on Windows: no Python there.
    expect(win.builds.map((b) => b.output)).toEqual(['acmectl.exe', 'relayd.exe']);
    expect(win).toMatchObject({ python: false, go: true });
    expect(win.builds[0]!.smoke).toEqual(['version']);
  });

  it('takes components[].source.path and release.runners from the definition', () => {
    const text = base
      .replace('  - name: agent-runner\n', '  - name: agent-runner\n    source: { path: python/agent-runner.spec }\n')
      .replace('    linux-arm64: ubuntu-24.04-arm\n', '    linux-arm64: self-hosted-arm64\n');
    const product = parseProduct(text, FILE);
    const { matrix } = makePlan(product, { version: '1.0.0', snapshot: false, platforms: ['linux-arm64'] });
    expect(matrix.include[0]!.runner).toBe('self-hosted-arm64');
    expect(matrix.include[0]!.builds.find((b) => b.component === 'agent-runner')!.source).toBe('python/agent-runner.spec');
  });

  it('rejects a runner label or a source path that would break the workflow, naming the field', () => {
    const [runner] = problemsOf(base.replace('    linux-arm64: ubuntu-24.04-arm\n', '    linux-arm64: "ubuntu 24.04; rm -rf /"\n'));
    expect(runner).toMatchObject({ field: 'release.runners.linux-arm64' });
    expect(runner!.message).toMatch(/runner label/);
    const [source] = problemsOf(base.replace('  - name: agent-runner\n', '  - name: agent-runner\n    source: { path: ../elsewhere.spec }\n'));
    expect(source).toMatchObject({ field: 'components[4](agent-runner).source.path' });
    expect(source!.message).toMatch(/inside the source repository/);
  });

  it('is part of `plan --json`', async () => {
    const r = await runCli(['plan', '--json', '--version', '1.2.3', '--platform', 'linux-arm64']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).matrix.include).toMatchObject([{ platform: 'linux-arm64', runner: 'ubuntu-24.04-arm' }]);
  });
});
