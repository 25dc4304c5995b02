// SHA256SUMS.asc: a detached, armored OpenPGP signature of the checksums file made with the release (repository)
// key, plus that key's public half as a release asset, and the check a downloader makes: gpgv against exactly
// that key, accepting only a good signature whose primary-key fingerprint is the pinned one.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MissingToolError } from '../errors.ts';
import type { BuiltFile } from '../targets/types.ts';
import { execa } from '../util/exec.ts';
import type { Signer } from './gpg.ts';

export interface SignedChecksums {
  signature: { path: string } & BuiltFile;
  publicKey: { path: string } & BuiltFile;
  /** The fingerprint install.sh pins at render time. */
  fingerprint: string;
}

/** Writes `<sums>.asc` (armored, detached) next to `sumsFile` and the armored public key to `publicKeyFile`. */
export async function signChecksums(signer: Signer, sumsFile: string, publicKeyFile: string): Promise<SignedChecksums> {
  const signaturePath = `${sumsFile}.asc`;
  const signature = await signer.detachSign(sumsFile, signaturePath, true);
  const publicKey = await signer.exportPublicKey(publicKeyFile, true);
  return { signature: { path: signaturePath, ...signature }, publicKey: { path: publicKeyFile, ...publicKey }, fingerprint: signer.fingerprint };
}

export interface ChecksumsVerdict {
  ok: boolean;
  detail: string;
}

/**
 * gpgv of `signatureFile` over `sumsFile` with `keyFile` (armored or binary public key) as the only keyring;
 * good only when gpgv exits 0 and reports VALIDSIG for the pinned primary fingerprint (a key file holding some
 * other key, or a signature by a subkey of another key, is refused).
 */
export async function verifyChecksumsSignature(opts: { sumsFile: string; signatureFile: string; keyFile: string; fingerprint: string }): Promise<ChecksumsVerdict> {
  const pinned = opts.fingerprint.replace(/\s+/g, '').toUpperCase();
  const home = await mkdtemp(path.join(os.tmpdir(), 'sd-gpgv-'));
  try {
    // gpgv reads only binary keyrings: an armored key is dearmored into the private home first.
    let ring = path.resolve(opts.keyFile);
    if ((await readFile(ring, 'latin1')).trimStart().startsWith('-----BEGIN PGP')) {
      ring = path.join(home, 'release.gpg');
      const dearmor = await execa('gpg', ['--batch', '--no-tty', '--homedir', home, '--yes', '--output', ring, '--dearmor', opts.keyFile], { reject: false, stdin: 'ignore' });
      if ((dearmor as { code?: string }).code === 'ENOENT') throw new MissingToolError('gpg', 'apt-get install gnupg', 'checking SHA256SUMS.asc');
      if (dearmor.failed) return { ok: false, detail: `${path.basename(opts.keyFile)} is not an OpenPGP public key` };
    }
    const r = await execa('gpgv', ['--homedir', home, '--status-fd', '1', '--keyring', ring, opts.signatureFile, opts.sumsFile], { reject: false, stdin: 'ignore' });
    if ((r as { code?: string }).code === 'ENOENT') throw new MissingToolError('gpgv', 'apt-get install gpgv', 'checking SHA256SUMS.asc');
    const status = String(r.stdout).split('\n');
    const validsig = status.map((l) => /^\[GNUPG:\] VALIDSIG (\S+)(?: \S+){8} (\S+)/.exec(l)).find(Boolean);
    if (r.exitCode !== 0 || !validsig) {
      const why = status.find((l) => /^\[GNUPG:\] (BADSIG|ERRSIG|NO_PUBKEY|NODATA)/.test(l))?.replace('[GNUPG:] ', '').split(' ')[0];
      return { ok: false, detail: `gpgv: ${why ?? `exit ${r.exitCode}`}` };
    }
    const primary = validsig[2]!.toUpperCase();
    if (primary !== pinned) return { ok: false, detail: `signed by ${primary}, not the pinned key ${pinned}` };
    return { ok: true, detail: `good signature by ${primary}` };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
