// Signing with GnuPG in a private, temporary GNUPGHOME per run: the user's keyring is never read or written,
// and neither the key material nor the passphrase ever reaches argv, a log line, an error message or an
// artifact (the key goes to gpg on stdin or from its file, the passphrase through a 0600 file in the temp home).
import { execa } from '../util/exec.ts';
import { accessSync, constants, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, UserError } from '../errors.ts';
import type { BuiltFile } from '../util/fsx.ts';
import { isReadableFile, writeFileAtomic } from '../util/fsx.ts';
import { pausePoint, registerCleanup, type Registration } from '../util/cleanup.ts';

export const SIGNING_KEY_ENV = 'STIGMER_DIST_SIGNING_KEY';
export const SIGNING_PASSPHRASE_ENV = 'STIGMER_DIST_SIGNING_PASSPHRASE';

/** Where the secret key comes from. `label` names the source in messages; it never holds key material. */
export type KeySource = { kind: 'file'; path: string; label: string } | { kind: 'inline'; text: string; label: string };

export type SigningMode =
  | { mode: 'key'; key: KeySource; passphrase?: string }
  /** Snapshot builds without a key: the committed INSECURE snapshot key (insecure-snapshot-openpgp/), exported with the repos. */
  | { mode: 'throwaway' }
  | { mode: 'unsigned' };

/**
 * The key snapshot builds sign with when none is given: committed, named INSECURE in its user ID, its secret half
 * public (see its README). The same key on every run keeps a snapshot build byte-reproducible.
 */
export const SNAPSHOT_KEY_DIR = fileURLToPath(new URL('./insecure-snapshot-openpgp/', import.meta.url));
const SNAPSHOT_KEY: KeySource = { kind: 'file', path: path.join(SNAPSHOT_KEY_DIR, 'INSECURE-snapshot-signing-key.asc'), label: 'the INSECURE snapshot signing key' };

const KEY_HINT = `pass --signing-key FILE, or set ${SIGNING_KEY_ENV} to the path of an exported secret key or to the armored key itself (gpg --armor --export-secret-keys KEYID)`;

/**
 * Decides how this build signs: an explicit key (flag, else env), else a throwaway key for a snapshot, else
 * (a release) refuse unless --unsigned. Checks the key is readable now, before anything is built.
 */
export function resolveSigning(opts: { signingKey?: string; unsigned?: boolean; snapshot: boolean; env?: NodeJS.ProcessEnv }): SigningMode {
  const env = opts.env ?? process.env;
  if (opts.unsigned && opts.signingKey) {
    throw new UserError('--unsigned and --signing-key contradict each other', { hint: 'drop one of them', exitCode: EXIT.usage });
  }
  if (opts.unsigned) return { mode: 'unsigned' };
  const passphrase = env[SIGNING_PASSPHRASE_ENV] || undefined;
  if (opts.signingKey) return { mode: 'key', key: keyFile(opts.signingKey, `--signing-key ${opts.signingKey}`), passphrase };
  const fromEnv = env[SIGNING_KEY_ENV];
  if (fromEnv && fromEnv.trim()) {
    if (/^\s*-----BEGIN PGP /.test(fromEnv)) return { mode: 'key', key: { kind: 'inline', text: fromEnv, label: SIGNING_KEY_ENV }, passphrase };
    if (fromEnv.length < 4096 && !fromEnv.includes('\n') && isReadableFile(fromEnv)) {
      return { mode: 'key', key: { kind: 'file', path: path.resolve(fromEnv), label: `${SIGNING_KEY_ENV} (a file path)` }, passphrase };
    }
    // Never echo the value: it may be key material in a format we do not recognise.
    throw new UserError(`${SIGNING_KEY_ENV} is set but holds neither an armored key block ("-----BEGIN PGP PRIVATE KEY BLOCK-----") nor the path of a readable file`, {
      hint: KEY_HINT,
      exitCode: EXIT.config,
    });
  }
  if (opts.snapshot) return { mode: 'throwaway' };
  throw new UserError('a release build signs SHA256SUMS, the RPMs and the APT and YUM repositories, but no signing key was given', {
    hint: `${KEY_HINT}; or pass --unsigned to build an unsigned release`,
    exitCode: EXIT.usage,
  });
}

function keyFile(p: string, label: string): KeySource {
  try {
    accessSync(p, constants.R_OK);
    if (!statSync(p).isFile()) throw new Error('not a regular file');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UserError(`${label}: cannot read the signing key (${reason})`, { hint: KEY_HINT, exitCode: EXIT.config });
  }
  return { kind: 'file', path: path.resolve(p), label };
}

export interface Signer {
  /** Primary key fingerprint (public information). */
  readonly fingerprint: string;
  readonly userId: string;
  /** The INSECURE snapshot key, whose secret half is public (snapshot builds without a key). */
  readonly throwaway: boolean;
  /** The public key: binary (an apt `signed-by` .gpg keyring) or armored (.asc, RPM-GPG-KEY-*). */
  exportPublicKey(file: string, armor: boolean): Promise<BuiltFile>;
  /** Inline-signed copy of `input` (APT InRelease). */
  clearsign(input: string, output: string): Promise<BuiltFile>;
  /** Detached signature of `input` (APT Release.gpg, armored; YUM repomd.xml.asc, armored). */
  detachSign(input: string, output: string, armor: boolean): Promise<BuiltFile>;
  /** Adds an OpenPGP signature to an RPM in place (rpmsign). */
  signRpm(file: string): Promise<void>;
  close(): Promise<void>;
}

export interface SignerOptions {
  /**
   * Signature creation time: max(this, the signing key's creation time), so signatures made with the same key
   * over the same bytes are byte-identical (RSA and EdDSA signatures are deterministic).
   */
  sourceDateEpoch: number;
}

interface KeyInfo {
  fingerprint: string;
  userId: string;
  /** Creation time of the newest usable signing (sub)key. */
  signingCreated: number;
}

const GPG_INSTALL = 'apt-get install gnupg';

/** gpg's own diagnostic lines (never key material), for error messages. */
function gpgDiagnostics(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('gpg:') && !/faked system time/.test(l))
    .slice(-4)
    .join('; ');
}

export class GpgSigner implements Signer {
  readonly fingerprint: string;
  readonly userId: string;
  readonly throwaway: boolean;
  private readonly home: string;
  private readonly passFile: string;
  private readonly sigTime: number;
  private closed = false;
  private readonly cleanup: Registration;

  private constructor(home: string, passFile: string, info: KeyInfo, throwaway: boolean, sourceDateEpoch: number, cleanup: Registration) {
    this.home = home;
    this.cleanup = cleanup;
    this.passFile = passFile;
    this.fingerprint = info.fingerprint;
    this.userId = info.userId;
    this.throwaway = throwaway;
    this.sigTime = Math.max(sourceDateEpoch, info.signingCreated);
  }

  /** Opens a temporary GNUPGHOME holding exactly one secret key (the given one, or the snapshot key) and proves it signs. */
  static async open(mode: Exclude<SigningMode, { mode: 'unsigned' }>, opts: SignerOptions): Promise<GpgSigner> {
    // A short path: gpg-agent's socket lives in the home and socket paths are limited to ~107 bytes.
    const home = await mkdtemp(path.join(os.tmpdir(), 'sd-gpg-'));
    // Removed by close(), or by the interruption handler if the run is stopped while the key is here.
    const cleanup = registerCleanup(async () => {
      await killAgent(home);
      await rm(home, { recursive: true, force: true });
    });
    if (/\s/.test(home)) {
      await cleanup.dispose();
      throw new UserError(`the temp directory ${os.tmpdir()} contains whitespace, which rpmsign's gpg command line cannot carry`, { hint: 'set TMPDIR to a path without spaces' });
    }
    await chmod(home, 0o700);
    const passFile = path.join(home, 'passphrase');
    try {
      await writeFile(passFile, mode.mode === 'key' ? (mode.passphrase ?? '') : '', { mode: 0o600 });
      await importKey(home, mode.mode === 'key' ? mode.key : SNAPSHOT_KEY);
      const info = await keyInfo(home, mode.mode === 'key' ? mode.key.label : 'the throwaway key');
      if (mode.mode === 'key') await refuseWeakKey(home, mode.key.label);
      const signer = new GpgSigner(home, passFile, info, mode.mode === 'throwaway', opts.sourceDateEpoch, cleanup);
      await signer.selfTest(mode.mode === 'key' ? mode.key.label : 'the throwaway key', mode.mode === 'key' && Boolean(mode.passphrase));
      return signer;
    } catch (err) {
      await cleanup.dispose();
      throw err;
    }
  }

  private signArgs(): string[] {
    return [
      '--homedir', this.home, '--batch', '--no-tty', '--yes',
      '--pinentry-mode', 'loopback', '--passphrase-file', this.passFile,
      '--faked-system-time', `${this.sigTime}!`,
      '--digest-algo', 'SHA512',
      '--local-user', this.fingerprint,
    ];
  }

  private async gpg(args: string[], what: string, input?: Buffer | string): Promise<Buffer> {
    if (this.closed) throw new Error('internal: signer used after close()');
    const r = await execa('gpg', args, { ...(input === undefined ? { stdin: 'ignore' as const } : { input }), encoding: 'buffer', reject: false });
    if (r.failed) {
      const diag = gpgDiagnostics(Buffer.from(r.stderr).toString('utf8'));
      if ((r as { code?: string }).code === 'ENOENT') throw new UserError(`${what} needs \`gpg\`, which is not installed`, { hint: `install it: ${GPG_INSTALL}`, exitCode: EXIT.missingTool });
      throw new UserError(`${what} failed: ${diag || `gpg exited with ${r.exitCode}`}`);
    }
    return Buffer.from(r.stdout);
  }

  private async selfTest(label: string, hadPassphrase: boolean): Promise<void> {
    try {
      await this.gpg([...this.signArgs(), '--detach-sign', '--output', '-'], 'test signature', 'stigmer-dist signing self-test\n');
    } catch (err) {
      const msg = (err as Error).message;
      if (/passphrase/i.test(msg)) {
        throw new UserError(`${label}: the secret key is protected by a passphrase and ${hadPassphrase ? `${SIGNING_PASSPHRASE_ENV} is not it` : `${SIGNING_PASSPHRASE_ENV} is not set`}`, {
          hint: `set ${SIGNING_PASSPHRASE_ENV} to the key's passphrase`,
          exitCode: EXIT.config,
        });
      }
      throw new UserError(`${label}: the key cannot sign: ${msg}`, { hint: 'use a secret key with signing capability that has not expired or been revoked', exitCode: EXIT.config });
    }
  }

  async exportPublicKey(file: string, armor: boolean): Promise<BuiltFile> {
    const data = await this.gpg(['--homedir', this.home, '--batch', '--export-options', 'export-minimal', ...(armor ? ['--armor'] : []), '--export', this.fingerprint], 'exporting the public key');
    if (!data.length) throw new Error('internal: gpg exported an empty public key');
    return writeFileAtomic(file, data);
  }

  async clearsign(input: string, output: string): Promise<BuiltFile> {
    await pausePoint('signing');
    const data = await this.gpg([...this.signArgs(), '--clearsign', '--output', '-', input], `signing ${path.basename(input)}`);
    return writeFileAtomic(output, data);
  }

  async detachSign(input: string, output: string, armor: boolean): Promise<BuiltFile> {
    await pausePoint('signing');
    const data = await this.gpg([...this.signArgs(), '--detach-sign', ...(armor ? ['--armor'] : []), '--output', '-', input], `signing ${path.basename(input)}`);
    return writeFileAtomic(output, data);
  }

  async signRpm(file: string): Promise<void> {
    if (this.closed) throw new Error('internal: signer used after close()');
    await pausePoint('signing');
    // Debian's rpm points %__gpg at a gpg2 that does not exist; the extra args carry our home, passphrase file and time.
    const extra = ['--homedir', this.home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-file', this.passFile, '--faked-system-time', `${this.sigTime}!`].join(' ');
    const r = await execa(
      'rpmsign',
      ['--addsign', '--define', `_gpg_name ${this.fingerprint}`, '--define', `__gpg ${await gpgPath()}`, '--define', `_gpg_sign_cmd_extra_args ${extra}`, file],
      { reject: false, stdin: 'ignore', env: { GNUPGHOME: this.home } },
    );
    if (r.failed) {
      if ((r as { code?: string }).code === 'ENOENT') throw new UserError('signing RPMs needs `rpmsign`, which is not installed', { hint: 'install it: apt-get install rpm', exitCode: EXIT.missingTool });
      const lines = String(r.stderr).split('\n').filter((l) => /^(error|gpg):/.test(l.trim()) && !/faked system time/.test(l));
      throw new UserError(`rpmsign ${path.basename(file)} failed: ${lines.slice(-4).join('; ') || `exit ${r.exitCode}`}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.cleanup.dispose();
  }
}

let gpgBinary: string | undefined;
async function gpgPath(): Promise<string> {
  if (!gpgBinary) {
    const r = await execa('sh', ['-c', 'command -v gpg'], { reject: false });
    gpgBinary = r.exitCode === 0 && String(r.stdout).trim() ? String(r.stdout).trim() : '/usr/bin/gpg';
  }
  return gpgBinary;
}

/** Stops the gpg-agent a home started, so no background process outlives the run. */
export async function killAgent(home: string): Promise<void> {
  await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false, stdin: 'ignore' });
}

async function importKey(home: string, key: KeySource): Promise<void> {
  const input = key.kind === 'file' ? await readFile(key.path) : key.text;
  const r = await execa('gpg', ['--homedir', home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase-file', path.join(home, 'passphrase'), '--import'], {
    input,
    reject: false,
  });
  if ((r as { code?: string }).code === 'ENOENT') throw new UserError('signing needs `gpg`, which is not installed', { hint: `install it: ${GPG_INSTALL}`, exitCode: EXIT.missingTool });
  if (r.failed) {
    throw new UserError(`${key.label}: gpg cannot import the key: ${gpgDiagnostics(String(r.stderr)) || `exit ${r.exitCode}`}`, { hint: KEY_HINT, exitCode: EXIT.config });
  }
}

async function keyInfo(home: string, label: string): Promise<KeyInfo> {
  const r = await execa('gpg', ['--homedir', home, '--batch', '--with-colons', '--fixed-list-mode', '--list-secret-keys'], { reject: false, stdin: 'ignore' });
  const lines = String(r.stdout).split('\n').map((l) => l.split(':'));
  const primaries = lines.filter((f) => f[0] === 'sec');
  if (primaries.length === 0) {
    throw new UserError(`${label}: holds no secret key (a public key cannot sign)`, { hint: KEY_HINT, exitCode: EXIT.config });
  }
  if (primaries.length > 1) {
    throw new UserError(`${label}: holds ${primaries.length} secret keys; the repositories are signed with exactly one`, {
      hint: 'export only the signing key: gpg --armor --export-secret-keys KEYID',
      exitCode: EXIT.config,
    });
  }
  const fpr = lines.find((f) => f[0] === 'fpr')?.[9];
  const uid = lines.find((f) => f[0] === 'uid')?.[9] ?? '';
  // Usable signing keys: capability "s", not expired (e) / revoked (r) / disabled (d).
  const signing = lines.filter((f) => (f[0] === 'sec' || f[0] === 'ssb') && (f[11] ?? '').includes('s') && !['e', 'r', 'd', 'i'].includes(f[1] ?? ''));
  if (!fpr) throw new Error('internal: gpg listed a secret key without a fingerprint');
  if (!signing.length) throw new UserError(`${label}: the key has no usable signing (sub)key (expired, revoked or certify-only)`, { hint: KEY_HINT, exitCode: EXIT.config });
  return { fingerprint: fpr, userId: uid, signingCreated: Math.max(...signing.map((f) => Number(f[5]) || 0)) };
}

/** OpenPGP hash algorithm ids that APT 3's sqv (Debian 13) and RPM 4.19+ no longer accept in signatures. */
const WEAK_HASHES: Record<string, string> = { '1': 'MD5', '2': 'SHA-1', '3': 'RIPEMD-160' };
/** RSA and DSA below 2048 bits are refused by the same policies. */
const MIN_FACTORING_BITS = 2048;

/**
 * A key whose binding self-signatures use SHA-1 (common for keys made before gpg 2.1) or whose RSA/DSA key has
 * fewer than 2048 bits still signs, and older clients accept the result, but Debian 13's apt (sqv) rejects the
 * whole repository as unsigned. Refuse it before anything is signed: only the newest self-signature of each
 * user ID and signing subkey counts, as for the clients.
 */
async function refuseWeakKey(home: string, label: string): Promise<void> {
  const r = await execa('gpg', ['--homedir', home, '--batch', '--with-colons', '--fixed-list-mode', '--list-sigs'], { reject: false, stdin: 'ignore' });
  const problems: string[] = [];
  let primaryId = '';
  let target = '';
  const newest = new Map<string, { created: number; hash: string }>();
  for (const f of String(r.stdout).split('\n').map((l) => l.split(':'))) {
    const [type, validity = '', bits = '', algo = '', keyId = ''] = f;
    if (type === 'pub' || type === 'sub') {
      if (type === 'pub') primaryId = keyId;
      if (['1', '2', '3', '17'].includes(algo) && Number(bits) < MIN_FACTORING_BITS && !['e', 'r'].includes(validity)) problems.push(`${type === 'pub' ? 'the primary key' : `subkey ${keyId}`} has ${bits} bits (${MIN_FACTORING_BITS} at least)`);
      // Only a usable signing subkey's binding matters for verification.
      target = type === 'sub' ? ((f[11] ?? '').includes('s') && !['e', 'r'].includes(validity) ? `subkey ${keyId}` : '') : '';
    } else if (type === 'uid') {
      target = ['e', 'r'].includes(validity) ? '' : `user ID "${f[9] ?? ''}"`;
    } else if (type === 'sig' && target && keyId === primaryId && /^1[0-3]|^18/.test(f[10] ?? '')) {
      const created = Number(f[5]) || 0;
      if ((newest.get(target)?.created ?? -1) <= created) newest.set(target, { created, hash: f[15] ?? '' });
    }
  }
  for (const [what, sig] of newest) if (WEAK_HASHES[sig.hash]) problems.push(`the self-signature on ${what} uses ${WEAK_HASHES[sig.hash]}`);
  if (problems.length) {
    throw new UserError(`${label}: ${problems.join('; ')}, which Debian 13's apt (sqv) and current RPM refuse: they would reject every repository signed with it`, {
      hint: 'renew the self-signatures with a strong digest: gpg --cert-digest-algo SHA512 --quick-set-expire FINGERPRINT 0 (add "*" for the subkeys), then export the secret key again; or use a new RSA 3072 or Ed25519 key',
      exitCode: EXIT.config,
    });
  }
}

/** One signer per build, created on first use (so unsigned or repo-less builds never start gpg), closed by the owner. */
export interface SigningSession {
  readonly mode: SigningMode['mode'];
  signer(): Promise<Signer | undefined>;
  close(): Promise<void>;
}

export function signingSession(mode: SigningMode, opts: SignerOptions & { onThrowaway?: (fingerprint: string) => void }): SigningSession {
  let pending: Promise<GpgSigner> | undefined;
  return {
    mode: mode.mode,
    signer() {
      if (mode.mode === 'unsigned') return Promise.resolve(undefined);
      pending ??= GpgSigner.open(mode, opts).then((s) => {
        if (s.throwaway) opts.onThrowaway?.(s.fingerprint);
        return s;
      });
      return pending;
    },
    async close() {
      if (!pending) return;
      const s = await pending.catch(() => undefined);
      await s?.close();
    },
  };
}
