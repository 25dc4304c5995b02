// `verify` rows for Authenticode: every PE inside the Windows zips and every MSI, checked with
// `osslsigncode verify` against the CA given (--authenticode-ca) or, for a snapshot, the INSECURE snapshot CA.
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openZip, zipEntries, zipEntryStream } from '../util/zip-read.ts';
import { OSSLSIGNCODE_INSTALL, SNAPSHOT_AUTHENTICODE, verifyAuthenticode } from '../signing/authenticode.ts';
import type { CheckEnv, CheckRow } from './checks.ts';
import { hasTool } from '../util/exec.ts';

const CHECK = 'authenticode';

/** The trust anchor for a dist: the given CA file, else the snapshot pair's CA for a snapshot, else none. */
export function authenticodeCa(opts: { caFile?: string; snapshot?: boolean }): { file: string; label: string } | undefined {
  if (opts.caFile) return { file: path.resolve(opts.caFile), label: path.basename(opts.caFile) };
  if (opts.snapshot) return { file: SNAPSHOT_AUTHENTICODE.caFile, label: 'the INSECURE snapshot CA' };
  return undefined;
}

async function firstBytes(file: string, n: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}


/** Extracts every file entry of `zip` whose first bytes are a PE's ("MZ") into `dest`; returns entry name -> file. */
async function peMembers(zipFile: string, dest: string): Promise<Map<string, string>> {
  const zip = await openZip(zipFile);
  const found = new Map<string, string>();
  try {
    const entries = await zipEntries(zip);
    for (const [i, e] of entries.entries()) {
      if (e.fileName.endsWith('/') || e.uncompressedSize < 2) continue;
      const file = path.join(dest, String(i), path.basename(e.fileName));
      await mkdir(path.dirname(file), { recursive: true });
      const stream = await zipEntryStream(zip, e);
      await pipeline(stream, createWriteStream(file));
      if ((await firstBytes(file, 2)) === 'MZ') found.set(e.fileName, file);
    }
  } finally {
    zip.close();
  }
  return found;
}

/** One row per PE in each zip and per MSI (paths relative to env.dir). */
export async function checkAuthenticode(env: CheckEnv, files: { zips: string[]; msis: string[] }, ca: { file: string; label: string } | undefined): Promise<CheckRow[]> {
  const targets: { artifact: string; file: string }[] = [];
  const rows: CheckRow[] = [];
  for (const zip of files.zips) {
    try {
      for (const [entry, file] of await peMembers(path.join(env.dir, zip), path.join(env.tmp, 'authenticode', zip))) targets.push({ artifact: `${zip}:${entry}`, file });
    } catch (err) {
      rows.push({ check: CHECK, artifact: zip, ok: false, detail: `not a readable zip: ${(err as Error).message}` });
    }
  }
  for (const msi of files.msis) targets.push({ artifact: msi, file: path.join(env.dir, msi) });
  if (!targets.length) return rows;
  const fail = (detail: string) => [...rows, ...targets.map((t) => ({ check: CHECK, artifact: t.artifact, ok: false, detail }))];
  if (!hasTool('osslsigncode')) return fail(`\`osslsigncode\` not installed: ${OSSLSIGNCODE_INSTALL}`);
  if (!ca) return fail('no CA to check the signature against: pass --authenticode-ca FILE (the PEM root of the code-signing certificate)');
  for (const t of targets) {
    const v = await verifyAuthenticode(t.file, { caFile: ca.file });
    rows.push({
      check: CHECK,
      artifact: t.artifact,
      ok: v.ok,
      detail: v.ok ? `signed by ${v.signer ?? '(unknown subject)'}${v.signingTime ? ` at ${v.signingTime}` : ''}, chain to ${ca.label}` : v.detail,
    });
  }
  return rows;
}
