// Authenticode signing and verification of Windows PE files (.exe) and MSI packages with osslsigncode.
// The PKCS#12 file and its password come from the environment; the password reaches osslsigncode through a
// 0600 file in a private 0700 temp directory (-readpass), never argv, a log line or an error message.
// Signing time is pinned (-time SOURCE_DATE_EPOCH) and RSA PKCS#1 v1.5 is deterministic, so signing the same
// bytes twice gives the same bytes (unless an RFC 3161 timestamp is requested: the TSA's answer varies).
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, MissingToolError, UserError } from '../errors.ts';
import type { BuiltFile } from '../targets/types.ts';
import { makeTempDir, type Registration } from '../util/cleanup.ts';
import { execa } from '../util/exec.ts';
import { hashFile, isReadableFile } from '../util/fsx.ts';

export const AUTHENTICODE_PKCS12_ENV = 'STIGMER_DIST_AUTHENTICODE_PKCS12';
export const AUTHENTICODE_PASSWORD_ENV = 'STIGMER_DIST_AUTHENTICODE_PASSWORD';
export const AUTHENTICODE_TIMESTAMP_URL_ENV = 'STIGMER_DIST_AUTHENTICODE_TIMESTAMP_URL';

const SNAPSHOT_DIR = fileURLToPath(new URL('./insecure-snapshot-authenticode/', import.meta.url));
/** The committed, public, INSECURE pair snapshot builds sign with (see its README.md). */
export const SNAPSHOT_AUTHENTICODE = {
  pkcs12: path.join(SNAPSHOT_DIR, 'INSECURE-snapshot-codesign.p12'),
  password: 'insecure',
  /** The CA `osslsigncode verify -CAfile` needs to accept what the snapshot pair signed. */
  caFile: path.join(SNAPSHOT_DIR, 'INSECURE-snapshot-ca.pem'),
} as const;

export const OSSLSIGNCODE_INSTALL = 'apt-get install osslsigncode';
const KEY_HINT = `set ${AUTHENTICODE_PKCS12_ENV} to the path of a PKCS#12 (.p12/.pfx) file with the code-signing key and certificate chain, or to that file base64-encoded, and ${AUTHENTICODE_PASSWORD_ENV} to its password`;

export type AuthenticodeMode =
  | { mode: 'key'; pkcs12: { kind: 'file'; path: string } | { kind: 'inline'; der: Buffer }; password: string; label: string; timestampUrl?: string }
  /** Snapshot builds without a key: the committed INSECURE pair. */
  | { mode: 'throwaway' }
  | { mode: 'unsigned' };

/**
 * How Windows files are signed: a PKCS#12 from the environment, else the INSECURE pair for a snapshot, else
 * (a release) refuse unless --unsigned-windows. The timestamp URL (flag, else env, else the definition's
 * release.authenticode.timestampUrl) applies to a real key only.
 */
export function resolveAuthenticode(opts: { snapshot: boolean; unsignedWindows?: boolean; timestampUrl?: string; definitionTimestampUrl?: string; env?: NodeJS.ProcessEnv }): AuthenticodeMode {
  const env = opts.env ?? process.env;
  const fromEnv = env[AUTHENTICODE_PKCS12_ENV]?.trim();
  if (opts.unsignedWindows && fromEnv) {
    throw new UserError(`--unsigned-windows contradicts ${AUTHENTICODE_PKCS12_ENV}, which is set`, { hint: `drop --unsigned-windows or unset ${AUTHENTICODE_PKCS12_ENV}`, exitCode: EXIT.usage });
  }
  if (opts.unsignedWindows) return { mode: 'unsigned' };
  const timestampUrl = opts.timestampUrl ?? (env[AUTHENTICODE_TIMESTAMP_URL_ENV]?.trim() || opts.definitionTimestampUrl);
  if (timestampUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(timestampUrl)) {
    throw new UserError(`the Authenticode timestamp URL ${JSON.stringify(timestampUrl)} is not an http(s) URL`, { hint: 'give an RFC 3161 time-stamping service URL, e.g. http://timestamp.digicert.com', exitCode: EXIT.usage });
  }
  const password = env[AUTHENTICODE_PASSWORD_ENV] ?? '';
  if (fromEnv) {
    if (fromEnv.length < 4096 && !fromEnv.includes('\n') && isReadableFile(fromEnv)) {
      return { mode: 'key', pkcs12: { kind: 'file', path: path.resolve(fromEnv) }, password, label: `${AUTHENTICODE_PKCS12_ENV} (a file path)`, timestampUrl };
    }
    const der = /^[A-Za-z0-9+/=\s]+$/.test(fromEnv) ? Buffer.from(fromEnv.replace(/\s+/g, ''), 'base64') : Buffer.alloc(0);
    // A PKCS#12 PFX is a DER SEQUENCE. Never echo the value: it is key material.
    if (der.length > 64 && der[0] === 0x30) return { mode: 'key', pkcs12: { kind: 'inline', der }, password, label: AUTHENTICODE_PKCS12_ENV, timestampUrl };
    throw new UserError(`${AUTHENTICODE_PKCS12_ENV} is set but holds neither the path of a readable file nor a base64-encoded PKCS#12 file`, { hint: KEY_HINT, exitCode: EXIT.config });
  }
  if (opts.snapshot) return { mode: 'throwaway' };
  throw new UserError('a release build Authenticode-signs the Windows files, but no code-signing key was given', {
    hint: `${KEY_HINT}; or pass --unsigned-windows to ship them unsigned`,
    exitCode: EXIT.usage,
  });
}

export interface AuthenticodeOptions {
  /** Signing time (the PKCS#9 signingTime attribute): SOURCE_DATE_EPOCH, so re-signing is byte-identical. */
  sourceDateEpoch: number;
  /** Program name shown in the UAC prompt (-n). */
  description?: string;
  /** Product URL shown with it (-i). */
  url?: string;
}

/** osslsigncode's own diagnostic lines (it never prints the password), without OpenSSL's hex-address noise. */
function diagnostics(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Succeeded$/.test(l))
    .map((l) => l.replace(/^[0-9A-F]{8,}:error:[0-9A-F]+:/, ''))
    .slice(-4)
    .join('; ');
}

export class AuthenticodeSigner {
  readonly throwaway: boolean;
  private readonly dir: string;
  /** Removes `dir`: at close(), or by the signal handler when the run is interrupted (the password file never stays). */
  private readonly removeDir: () => Promise<void>;
  private readonly pkcs12: string;
  private readonly passFile: string;
  private readonly timestampUrl: string | undefined;
  private readonly opts: AuthenticodeOptions;
  private closed = false;

  private constructor(dir: Registration & { path: string }, pkcs12: string, passFile: string, throwaway: boolean, timestampUrl: string | undefined, opts: AuthenticodeOptions) {
    this.dir = dir.path;
    this.removeDir = dir.dispose;
    this.pkcs12 = pkcs12;
    this.passFile = passFile;
    this.throwaway = throwaway;
    this.timestampUrl = timestampUrl;
    this.opts = opts;
  }

  /** A private 0700 directory holding the password file (and an inline PKCS#12), removed by close(). */
  static async open(mode: Exclude<AuthenticodeMode, { mode: 'unsigned' }>, opts: AuthenticodeOptions): Promise<AuthenticodeSigner> {
    const tmp = await makeTempDir('sd-authenticode-');
    const dir = tmp.path;
    try {
      await chmod(dir, 0o700);
      const passFile = path.join(dir, 'password');
      await writeFile(passFile, mode.mode === 'key' ? mode.password : SNAPSHOT_AUTHENTICODE.password, { mode: 0o600 });
      let pkcs12: string = SNAPSHOT_AUTHENTICODE.pkcs12;
      if (mode.mode === 'key') {
        if (mode.pkcs12.kind === 'file') pkcs12 = mode.pkcs12.path;
        else {
          pkcs12 = path.join(dir, 'key.p12');
          await writeFile(pkcs12, mode.pkcs12.der, { mode: 0o600 });
        }
      }
      return new AuthenticodeSigner(tmp, pkcs12, passFile, mode.mode === 'throwaway', mode.mode === 'key' ? mode.timestampUrl : undefined, opts);
    } catch (err) {
      await tmp.dispose();
      throw err;
    }
  }

  /** Signs `input` (a PE or an MSI) into `output` (may be the same path): temp file, then rename. */
  async sign(input: string, output: string = input): Promise<BuiltFile> {
    if (this.closed) throw new Error('internal: Authenticode signer used after close()');
    // osslsigncode refuses to overwrite, and a half-written output must never sit at the final name.
    const tmp = `${output}.sign-${process.pid}-${path.basename(this.dir)}`;
    const args = ['sign', '-pkcs12', this.pkcs12, '-readpass', this.passFile, '-h', 'sha256', '-time', String(this.opts.sourceDateEpoch)];
    if (this.opts.description) args.push('-n', this.opts.description);
    if (this.opts.url) args.push('-i', this.opts.url);
    if (this.timestampUrl) args.push('-ts', this.timestampUrl);
    args.push('-in', input, '-out', tmp);
    try {
      const r = await execa('osslsigncode', args, { reject: false, stdin: 'ignore', all: true });
      if ((r as { code?: string }).code === 'ENOENT') throw new MissingToolError('osslsigncode', OSSLSIGNCODE_INSTALL, 'Authenticode signing');
      if (r.failed) {
        const diag = diagnostics(String(r.all ?? ''));
        const hint = /pkcs12|mac verify|password|decrypt/i.test(diag) ? KEY_HINT : undefined;
        throw new UserError(`Authenticode-signing ${path.basename(input)} failed: ${diag || `osslsigncode exited with ${r.exitCode}`}`, { hint });
      }
      await rename(tmp, output);
    } finally {
      await rm(tmp, { force: true });
    }
    return hashFile(output);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.removeDir();
  }
}

export interface AuthenticodeVerdict {
  ok: boolean;
  /** osslsigncode's reason when not ok (one line). */
  detail: string;
  /** When ok: the signer's subject and the signing time, as osslsigncode prints them. */
  signer?: string;
  signingTime?: string;
}

/** `osslsigncode verify` of a PE or MSI against `caFile` (PEM bundle of trusted roots). */
export async function verifyAuthenticode(file: string, opts: { caFile: string; tsaCaFile?: string }): Promise<AuthenticodeVerdict> {
  const args = ['verify', '-CAfile', opts.caFile];
  if (opts.tsaCaFile) args.push('-TSA-CAfile', opts.tsaCaFile);
  args.push('-in', file);
  const r = await execa('osslsigncode', args, { reject: false, stdin: 'ignore', all: true });
  if ((r as { code?: string }).code === 'ENOENT') throw new MissingToolError('osslsigncode', OSSLSIGNCODE_INSTALL, 'Authenticode verification');
  const out = String(r.all ?? '');
  // Exit status is the verdict; "Succeeded" is checked too, since osslsigncode prints it last when all signatures hold.
  const ok = r.exitCode === 0 && /^Succeeded\s*$/m.test(out);
  if (!ok) return { ok, detail: diagnostics(out) || `osslsigncode exited with ${r.exitCode}` };
  const signer = /Signer #0:\s*\n\s*Subject: (.+)/.exec(out)?.[1]?.trim();
  const signingTime = /^\s*Signing time: (.+)$/m.exec(out)?.[1]?.trim();
  return { ok, detail: 'signature verified', ...(signer ? { signer } : {}), ...(signingTime ? { signingTime } : {}) };
}
