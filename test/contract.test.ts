// The command-line contract of an upstream program (packaging/contracts/temporal-1.8.2.yaml): a service whose
// args the real program would refuse is refused at plan time, naming the definition's file, line and field.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkArgs, loadContract } from '../src/product/contract.ts';
import { loadProduct } from '../src/product/load.ts';
import { ACME_YAML, runCli, STIGMER_YAML, tempDir, definitionProblems } from './helpers.ts';

const CONTRACT = path.join(path.dirname(STIGMER_YAML), 'contracts/temporal-1.8.2.yaml');
const contract = loadContract(CONTRACT);
const stigmerText = readFileSync(STIGMER_YAML, 'utf8');

/** The Stigmer definition, edited, in a temp dir beside a copy of its contract and files. */
function definitionWith(edit: (text: string) => string): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'contracts'));
  copyFileSync(CONTRACT, path.join(dir, 'contracts/temporal-1.8.2.yaml'));
  copyFileSync(path.join(path.dirname(STIGMER_YAML), 'LICENSE'), path.join(dir, 'LICENSE'));
  const file = path.join(dir, 'stigmer.yaml');
  const edited = edit(stigmerText);
  expect(edited).not.toBe(stigmerText);
  writeFileSync(file, edited);
  return file;
}

const problemsOf = (file: string) => definitionProblems(() => loadProduct(file));

describe('the Temporal CLI 1.8.2 contract', () => {
  it("accepts the Stigmer definition's temporal command line, and is loaded into the model", () => {
    const temporal = loadProduct(STIGMER_YAML).components.find((c) => c.name === 'temporal')!;
    expect(temporal.contract).toEqual(contract);
    expect(temporal.service!.args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(checkArgs(contract, temporal.service!.args)).toEqual([]);
  });

  it('the acme fixture (no contract) still loads', () => {
    expect(loadProduct(ACME_YAML).components.every((c) => c.contract === undefined)).toBe(true);
  });

  it('parses flags as the CLI does: --flag value, --flag=value, -f value, -fvalue, boolean switches', () => {
    const ok = ['server', 'start-dev', '-f', '/d/t.db', '--port=7233', '-p7233', '-n', 'a', '--namespace', 'b', '--headless', '--headless=false', '--log-format', 'json'];
    expect(checkArgs(contract, ok)).toEqual([]);
    const problems = (args: string[]) => checkArgs(contract, ['server', 'start-dev', ...args]).map((p) => [p.index, p.message]);
    expect(problems(['--ui', '8233'])).toEqual([[2, 'unknown flag: --ui (temporal server start-dev 1.8.2 does not accept it)'], [3, 'unexpected argument "8233": temporal server start-dev takes no positional arguments']]);
    expect(problems(['-x'])).toEqual([[2, "unknown shorthand flag: 'x' in -x (temporal server start-dev 1.8.2)"]]);
    expect(problems(['--db-filename'])).toEqual([[2, 'flag needs an argument: --db-filename']]);
    expect(problems(['--headless=yes'])).toEqual([[2, 'invalid argument "yes" for --headless: it is a boolean switch']]);
    expect(problems(['--log-format', 'xml'])).toEqual([[3, 'invalid value "xml" for --log-format']]);
    // A placeholder is the service manager's value, not compared with the fixed set.
    expect(problems(['--log-format', '{configDir}'])).toEqual([]);
    expect(checkArgs(contract, ['--root', '/var/lib/x', 'start']).map((p) => p.message)).toEqual([
      'the command must start with "server start-dev" (temporal server start-dev), got "--root"',
    ]);
  });

  it('refuses at plan a definition with a flag `start-dev` does not accept, naming file, line and field', async () => {
    const file = definitionWith((t) => t.replace('        - --headless\n', '        - --ui-port-disabled\n'));
    expect(problemsOf(file)).toEqual([
      {
        file,
        line: expect.any(Number),
        column: 11,
        field: 'components[1](temporal).service.args[12]',
        message: 'unknown flag: --ui-port-disabled (temporal server start-dev 1.8.2 does not accept it); contract contracts/temporal-1.8.2.yaml',
        fix: expect.stringMatching(/^remove it or use one of: --db-filename, .*--headless/),
      },
    ]);
    const plan = await runCli(['plan', '--config', file]);
    expect(plan.exitCode).not.toBe(0);
    expect(plan.stderr).toContain(`${file}:`);
    expect(plan.stderr).toContain('components[1](temporal).service.args[12]: unknown flag: --ui-port-disabled');
    expect(plan.stdout).toBe('');
  });

  it('refuses the old temporal-server command line', () => {
    const file = definitionWith((t) => t.replace(/      args:\n        - server\n        - start-dev\n/, '      args:\n        - --root\n        - start\n'));
    expect(problemsOf(file).map((p) => `${p.field}: ${p.message}`)).toEqual([
      'components[1](temporal).service.args[0]: the command must start with "server start-dev" (temporal server start-dev), got "--root"; contract contracts/temporal-1.8.2.yaml',
    ]);
  });

  it('refuses a missing contract file and a contract of another version', () => {
    const missing = definitionWith((t) => t.replace('contract: contracts/temporal-1.8.2.yaml', 'contract: contracts/temporal-9.9.9.yaml'));
    expect(problemsOf(missing)).toEqual([
      expect.objectContaining({
        field: 'components[1](temporal).upstream.contract',
        message: `contract file ${path.join(path.dirname(missing), 'contracts/temporal-9.9.9.yaml')} does not exist`,
      }),
    ]);
    const other = definitionWith((t) => t.replace('      version: 1.8.2\n', '      version: 1.9.1\n'));
    expect(problemsOf(other).map((p) => `${p.field}: ${p.message}`)).toEqual([
      'components[1](temporal).upstream.contract: contracts/temporal-1.8.2.yaml is the contract of temporal 1.8.2, but upstream.version is 1.9.1',
    ]);
  });

  it('a malformed contract is named with its own field', () => {
    const file = definitionWith((t) => t.replace('contract: contracts/temporal-1.8.2.yaml', 'contract: contracts/bad.yaml'));
    writeFileSync(path.join(path.dirname(file), 'contracts/bad.yaml'), 'program: temporal\nversion: 1.8.2\nflags:\n  - { name: --port, value: true }\n');
    expect(problemsOf(file).map((p) => p.message)).toEqual([
      `contract file ${path.join(path.dirname(file), 'contracts/bad.yaml')}: flags.0.name: must be a long flag name without dashes, like "db-filename"`,
    ]);
  });
});
