// systemd itself on the shared env-file corpus (test/fixtures/env-files/corpus.json): a oneshot unit per file in
// the booted Debian root, EnvironmentFile= the file, dumps its environment (env -0). Each sets exactly the
// variables the corpus lists, which the launcher (test/env-file.test.ts) and the Windows service host
// (winsvc/envfile_test.go) are held to as well: all three agree, and refuse the same lines.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV_CORPUS, setByFile } from '../env-corpus.ts';
import { Container, SHARED_INSIDE } from '../../src/verify/install/nspawn.ts';

let box: Container;

beforeAll(async () => {
  box = await Container.boot();
});

afterAll(async () => {
  await box?.dispose();
});

function unit(name: string): string {
  return [
    '[Unit]',
    `Description=dump the environment EnvironmentFile= ${name}.env gives`,
    '',
    '[Service]',
    'Type=oneshot',
    `EnvironmentFile=${SHARED_INSIDE}/env/${name}.env`,
    `StandardOutput=truncate:${SHARED_INSIDE}/env/${name}.out`,
    'ExecStart=/usr/bin/env -0',
    '',
  ].join('\n');
}

describe('systemd EnvironmentFile= on the env-file corpus', () => {
  it('sets exactly the corpus variables for every file', async () => {
    const dir = path.join(box.shared, 'env');
    mkdirSync(dir, { recursive: true });
    const cases = [{ name: 'baseline', content: '', env: {} }, ...ENV_CORPUS];
    for (const c of cases) {
      writeFileSync(path.join(dir, `${c.name}.env`), c.content);
      writeFileSync(path.join(dir, `envdump-${c.name}.service`), unit(c.name));
    }
    await box.run(['sh', '-c', `cp ${SHARED_INSIDE}/env/envdump-*.service /etc/systemd/system/ && systemctl daemon-reload`]);
    for (const c of cases) await box.run(['systemctl', 'start', `envdump-${c.name}.service`]);
    const baseline = readFileSync(path.join(dir, 'baseline.out'), 'utf8');
    expect(baseline).toContain('PATH=');
    for (const c of ENV_CORPUS) expect(setByFile(readFileSync(path.join(dir, `${c.name}.out`), 'utf8'), baseline), c.name).toEqual(c.env);
  });
});
