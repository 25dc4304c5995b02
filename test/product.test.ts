// The product definition: strict validation, and each kind of bad input named with file, line, field and fix.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProduct, parseProduct } from '../src/product/load.ts';
import { ACME_YAML, STIGMER_YAML, definitionProblems } from './helpers.ts';

const base = readFileSync(STIGMER_YAML, 'utf8');
const FILE = path.join(path.dirname(STIGMER_YAML), 'broken.yaml');

const problemsOf = (text: string) => definitionProblems(() => parseProduct(text, FILE));

describe('product definition', () => {
  it('loads the Stigmer product with services ordered after their dependencies', () => {
    const p = loadProduct(STIGMER_YAML);
    expect(p.components.map((c) => c.name)).toEqual(['stigmer', 'temporal', 'stigmer-server', 'workflow-runner', 'agent-runner']);
    expect(p.services.map((s) => s.name)).toEqual(['stigmer-temporal', 'stigmer-server', 'workflow-runner', 'agent-runner']);
    const runner = p.services.find((s) => s.name === 'agent-runner')!;
    expect(runner.after).toEqual(['stigmer-temporal', 'stigmer-server']);
    expect(runner.frozen).toBe(true);
    expect(runner.health).toMatchObject({ type: 'http', path: '/healthz', portNumber: 7237 });
    expect(p.secrets).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'STIGMER_AUTH_TOKEN']);
    expect(Object.isFrozen(p.components[0])).toBe(true);
  });

  it('loads the second product fixture', () => {
    const p = loadProduct(ACME_YAML);
    expect(p.services.map((s) => s.name)).toEqual(['acme-relayd', 'acme-metrics']);
  });

  it('reports a YAML syntax error with its line', () => {
    const [p] = problemsOf(base.replace('schemaVersion: 1', 'schemaVersion: 1\nproduct: [unclosed'));
    expect(p).toMatchObject({ file: FILE, line: 6, column: 1, message: expect.stringMatching(/YAML syntax error/) });
  });

  it('rejects an unknown key, listing the allowed ones', () => {
    const [p] = problemsOf(base.replace('  homepage: https://github.com/stigmer/stigmer', '  homepage: https://github.com/stigmer/stigmer\n  hompage: x'));
    expect(p).toMatchObject({ field: 'product.hompage', message: 'unknown key "hompage"', line: 14, column: 3 });
    expect(p!.fix).toMatch(/allowed here: name, displayName, version, summary, description, homepage/);
  });

  it('reports a missing field', () => {
    const [p] = problemsOf(base.replace('  license: Apache-2.0\n', ''));
    expect(p).toMatchObject({ field: 'product.license', message: 'required field is missing', fix: 'add "license" (string)' });
  });

  it('rejects duplicate component and service names', () => {
    const dupComponent = problemsOf(base.replace('  - name: workflow-runner\n', '  - name: stigmer-server\n'));
    expect(dupComponent.map((p) => p.message)).toContain('duplicate component name "stigmer-server" (also components[2])');
    const dupService = problemsOf(base.replace('      name: stigmer-temporal\n', '      name: agent-runner\n'));
    expect(dupService.some((p) => /duplicate service name "agent-runner"/.test(p.message))).toBe(true);
  });

  it('rejects an unknown platform with the allowed values', () => {
    const [p] = problemsOf(base.replace('platforms: [linux-amd64,', 'platforms: [linux-riscv64, linux-amd64,'));
    expect(p).toMatchObject({ field: 'platforms[0]', message: '"linux-riscv64" is not allowed' });
    expect(p!.fix).toMatch(/use one of: "linux-amd64", .*"windows-amd64"/);
  });

  it('rejects an invalid version', () => {
    const [p] = problemsOf(base.replace('version: 0.1.0', 'version: "0.1"'));
    expect(p).toMatchObject({ field: 'product.version', message: '"0.1" is not a semantic version', line: 8 });
    // Unquoted, YAML reads 0.1 as a number: the fix says to quote it.
    const [n] = problemsOf(base.replace('version: 0.1.0', 'version: 0.1'));
    expect(n).toMatchObject({ field: 'product.version', fix: 'quote the value so YAML reads it as a string' });
  });

  it('rejects a dependency cycle between services, naming the cycle', () => {
    const cyclic = base.replace('      after: [temporal]\n', '      after: [temporal, agent-runner]\n');
    const problems = problemsOf(cyclic);
    expect(problems.map((p) => p.message)).toContainEqual(expect.stringMatching(/dependency cycle between services: .*stigmer-server -> agent-runner -> stigmer-server/));
  });

  it('rejects env var names that are not identifiers', () => {
    const problems = problemsOf(base.replace('        STIGMER_LOG_FORMAT: json\n        STIGMER_TEMPORAL_ADDRESS', '        STIGMER-LOG: json\n        STIGMER_TEMPORAL_ADDRESS').replace('secrets: [ANTHROPIC_API_KEY,', 'secrets: [9LIVES,'));
    expect(problems.map((p) => p.field)).toEqual(expect.arrayContaining([expect.stringMatching(/components\[2\]\(stigmer-server\)\.service\.env\.STIGMER-LOG/), 'components[4](agent-runner).service.secrets[0]']));
    expect(problems.find((p) => p.field.endsWith('secrets[0]'))!.message).toMatch(/valid environment variable name/);
  });

  it('rejects a destination path that escapes the install root', () => {
    const [p] = problemsOf(base.replace('dest: share/doc/stigmer/LICENSE', 'dest: ../../etc/passwd'));
    expect(p).toMatchObject({ field: 'files[0].dest', line: 50, column: 21 });
    expect(p!.message).toMatch(/escapes its root: remove ".." segments/);
  });

  it('rejects an env file outside the config dir, a health check on an undeclared port and an unknown placeholder, all at once', () => {
    const problems = problemsOf(
      base
        .replace('envFile: /etc/stigmer/stigmer.env', 'envFile: /opt/stigmer/stigmer.env')
        .replace('health: { type: http, port: http, path: /healthz }\n      stop: { signal: SIGTERM, timeoutSeconds: 30 }', 'health: { type: http, port: admin }\n      stop: { signal: SIGTERM, timeoutSeconds: 30 }')
        .replace('[--data-dir, "{stateDir}"]', '[--data-dir, "{dataDir}"]'),
    );
    const messages = problems.map((p) => p.message);
    expect(messages).toContainEqual('/opt/stigmer/stigmer.env is not inside configDir /etc/stigmer');
    expect(messages).toContainEqual('"admin" is not one of this service\'s ports');
    expect(messages).toContainEqual('unknown placeholder {dataDir}');
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(5);
  });

  it('rejects an unsupported schemaVersion and a service ordered after a non-service', () => {
    expect(problemsOf(base.replace('schemaVersion: 1', 'schemaVersion: 2'))[0]).toMatchObject({ field: 'schemaVersion' });
    const [p] = problemsOf(base.replace('      after: [temporal]\n', '      after: [stigmer]\n'));
    expect(p!.message).toBe('"stigmer" is not a service');
  });

  it('names the definition file and says how to pick another when it cannot be read', () => {
    const missing = path.join(path.dirname(FILE), 'nope.yaml');
    expect(() => loadProduct(missing)).toThrow(/cannot read the product definition .*nope.yaml/);
  });

  it('formats problems as file:line:column: field: message + fix', () => {
    try {
      parseProduct(base.replace('  license: Apache-2.0\n', '  license: Apache-2.0\n  licence: MIT\n'), FILE);
    } catch (err) {
      expect((err as Error).message).toMatch(/broken\.yaml:15:3: product\.licence: unknown key "licence"\n {4}fix: remove it or fix the spelling/);
      return;
    }
    throw new Error('not rejected');
  });

  it('never writes the file it reads', () => {
    const before = readFileSync(STIGMER_YAML, 'utf8');
    const stamp = statSync(STIGMER_YAML).mtimeMs;
    loadProduct(STIGMER_YAML);
    expect(readFileSync(STIGMER_YAML, 'utf8')).toBe(before);
    expect(statSync(STIGMER_YAML).mtimeMs).toBe(stamp);
  });
});
