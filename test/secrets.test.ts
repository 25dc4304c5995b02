// No token is ever printed: the stand-in GitHub API repeats the Authorization header in every error body it
// returns, and `build --from github:...`, `verify --reproduce --from github:...` and `publish`, run through the
// real CLI, print only the redacted form. The token was sent (the stand-in logged it) and the echo reached the
// message (its redacted form is there), so the assertions cannot pass by the request never happening.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Product } from '../src/product/model.ts';
import { Secrets } from '../src/util/secrets.ts';
import { AUTHENTICODE_PASSWORD_ENV, AUTHENTICODE_PKCS12_ENV, AUTHENTICODE_TIMESTAMP_URL_ENV } from '../src/signing/authenticode.ts';
import { writeFileAtomic } from '../src/util/fsx.ts';
import { beaconPayloadDir, engineServer, writeBeacon, type EngineServer } from './helpers/beacon.ts';
import { GithubStandin } from './helpers/github-standin.ts';
import { runCli } from './helpers.ts';

const READ = 'ghp_secretsReadToken0123456789abcdefQRS';
const UNKNOWN = 'ghp_secretsUnknownToken0123456789abcdefTUV';
const REPO = 'beacon-org/beacon';

let work: string;
let engine: EngineServer;
let defFile: string;
let product: Product;
let gh: GithubStandin;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sd-secrets-'));
  engine = await engineServer();
  ({ file: defFile, product } = writeBeacon(work, { engine }));
  gh = await GithubStandin.start({ [READ]: 'read' });
  gh.addRepo(REPO);
});

afterAll(async () => {
  await gh.close();
  await engine.server.close();
  await rm(work, { recursive: true, force: true });
});

function expectRedacted(r: { exitCode: number; stdout: string; stderr: string }, token: string): void {
  expect(r.exitCode, r.stderr).not.toBe(0);
  expect(r.stdout + r.stderr).not.toContain(token);
  expect(r.stderr).toContain('(request sent Authorization: token ***)');
  expect(gh.calls.some((c) => c.authorization?.endsWith(token))).toBe(true);
}

describe('tokens never reach the output', () => {
  it('build --from github:... with a token the API rejects', async () => {
    const env = { STIGMER_DIST_GITHUB_API: gh.apiBase, GITHUB_TOKEN: UNKNOWN, STIGMER_DIST_CACHE: path.join(work, 'cache-build') };
    const r = await runCli(['build', '--config', defFile, '--version', '1.4.0', '--from', `github:${REPO}@v1.4.0`, '--out', path.join(work, 'dist-build'), '-t', 'archive'], { env });
    expectRedacted(r, UNKNOWN);
    expect(r.stderr).toMatch(/GitHub answered 401 .*Bad credentials/);
  });

  it('verify --reproduce --from github:... with a token the API rejects', async () => {
    // A real dist (its manifest is checked on read), built from local payloads; the rebuild then asks GitHub.
    const payloads = await beaconPayloadDir(path.join(work, 'payloads-verify'), product);
    const built = await runCli(['build', '--config', defFile, '--version', '1.4.0', '--from', payloads, '--out', path.join(work, 'dist-verify'), '-t', 'archive,checksums', '--unsigned-windows'], {
      env: { STIGMER_DIST_CACHE: path.join(work, 'cache-verify-build') },
    });
    expect(built.exitCode, built.stderr).toBe(0);
    const env = { STIGMER_DIST_GITHUB_API: gh.apiBase, GH_TOKEN: UNKNOWN, GITHUB_TOKEN: '', STIGMER_DIST_CACHE: path.join(work, 'cache-verify') };
    const r = await runCli(['verify', '--config', defFile, '--version', '1.4.0', '--out', path.join(work, 'dist-verify'), '--reproduce', '--from', `github:${REPO}@v1.4.0`], { env });
    expectRedacted(r, UNKNOWN);
  });

  it('publish with a token that may only read', async () => {
    const payloads = await beaconPayloadDir(path.join(work, 'payloads'), product);
    const built = await runCli(['build', '--config', defFile, '--version', '1.4.0', '--from', payloads, '--out', path.join(work, 'dist-publish'), '-t', 'archive,checksums', '--unsigned-windows'], {
      env: { STIGMER_DIST_CACHE: path.join(work, 'cache-publish') },
    });
    expect(built.exitCode, built.stderr).toBe(0);
    const env = { STIGMER_DIST_GITHUB_API: gh.apiBase, GITHUB_TOKEN: READ };
    const r = await runCli(['publish', '--config', defFile, '--version', '1.4.0', '--out', path.join(work, 'dist-publish'), '--only', 'release'], { env });
    expectRedacted(r, READ);
    expect(r.stderr).toMatch(/GitHub answered 403/);
  });

  it('refuses to write a file that would carry a secret of the environment', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sd-secrets-w-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const { processSecrets } = await import('../src/util/secrets.ts');
    processSecrets().add('tok-0123456789-never-written', '$TEST_TOKEN');
    await expect(writeFileAtomic(path.join(dir, 'a.txt'), 'x tok-0123456789-never-written y')).rejects.toThrow('refusing to write');
    await expect(writeFileAtomic(path.join(dir, 'b.bin'), Buffer.from('..tok-0123456789-never-written..'))).rejects.toThrow('it would contain the value of $TEST_TOKEN');
    expect(new Secrets().add('abcdefgh').redact('1abcdefgh2')).toBe('1***2');
  });

  it('the Authenticode key variables are secrets: their values are redacted from every message', () => {
    const password = 'authenticode-password-81f3';
    const pkcs12 = 'MIIKcQIBAzCCCicGCSqGSIb3DQEHAaCCChgEggoUMIIKEDCCBMcGCSqGSIb3';
    const secrets = Secrets.fromEnv({ [AUTHENTICODE_PASSWORD_ENV]: password, [AUTHENTICODE_PKCS12_ENV]: pkcs12, [AUTHENTICODE_TIMESTAMP_URL_ENV]: 'http://timestamp.example.com' });
    expect(secrets.redact(`pw=${password} key=${pkcs12} tsa=http://timestamp.example.com`)).toBe('pw=*** key=*** tsa=http://timestamp.example.com');
    expect(secrets.leakedIn(Buffer.from(`..${password}..`))).toBe(`$${AUTHENTICODE_PASSWORD_ENV}`);
  });
});
