// The trust-chain rows of `verify`: SHA256SUMS.asc against the exported release key (and the key install.sh pins),
// the SBOM (schema-valid, naming every archive and package with the digest SHA256SUMS and the file have), and,
// when SHA256SUMS.sigstore.json is present, that bundle verified offline against a key or trusted root given
// on the command line.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Product } from '../product/model.ts';
import { validateSbom } from '../sbom/cyclonedx.ts';
import { verifyChecksumsSignature } from '../signing/checksums-signature.ts';
import { CHECKSUMS_FILE, parseChecksums } from '../targets/checksums/index.ts';
import { CHECKSUMS_SIGNATURE_FILE, SIGSTORE_BUNDLE_FILE, releaseKeyFile } from '../targets/release.ts';
import { INSTALL_SH } from '../targets/installer/index.ts';
import { hashFile } from '../util/fsx.ts';
import type { CheckRow } from './checks.ts';
import { verifySigstoreBundle, type SigstoreTrust } from './sigstore.ts';


export interface TrustOptions {
  /** Trust for SHA256SUMS.sigstore.json (absent: a present bundle is a failed row asking for one). */
  sigstore?: SigstoreTrust;
  /**
   * The build planned no checksums signature (a target subset, or --unsigned), as its manifest says: a missing
   * SHA256SUMS.asc is then no failure. Without a manifest (a downloaded release) it always is.
   */
  unsignedByPlan?: boolean;
}

/** Primary fingerprint of the one public key in `keyFile` (gpg --show-keys reads armored and binary keys). */
async function keyFingerprint(keyFile: string, home: string): Promise<string | undefined> {
  // A scratch home: nothing is read from or written to the user's keyring (or the dist).
  const r = await execa('gpg', ['--batch', '--no-tty', '--homedir', home, '--with-colons', '--show-keys', keyFile], { reject: false, stdin: 'ignore' });
  const lines = String(r.stdout).split('\n');
  const pub = lines.findIndex((l) => l.startsWith('pub:'));
  if (r.exitCode !== 0 || pub < 0 || lines.filter((l) => l.startsWith('pub:')).length !== 1) return undefined;
  return lines.slice(pub + 1).find((l) => l.startsWith('fpr:'))?.split(':')[9];
}

async function checksumsSignatureRows(dir: string, product: Product, tmp: string, unsignedByPlan: boolean): Promise<CheckRow[]> {
  const sums = path.join(dir, CHECKSUMS_FILE);
  const sig = path.join(dir, CHECKSUMS_SIGNATURE_FILE);
  const check = 'checksums signature';
  if (!existsSync(sums)) return [];
  if (!existsSync(sig) && unsignedByPlan) return [];
  if (!existsSync(sig)) return [{ check, artifact: CHECKSUMS_FILE, ok: false, detail: `unsigned (no ${CHECKSUMS_SIGNATURE_FILE}): built with --unsigned?` }];
  const rows: CheckRow[] = [];
  const armored = path.join(dir, releaseKeyFile(product, true));
  const binary = path.join(dir, releaseKeyFile(product, false));
  if (!existsSync(armored) || !existsSync(binary)) return [{ check, artifact: CHECKSUMS_SIGNATURE_FILE, ok: false, detail: `the release key is missing (${path.basename(armored)} and ${path.basename(binary)} are release assets)` }];
  const home = path.join(tmp, 'gnupg-show-keys');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const fprArmored = await keyFingerprint(armored, home);
  const fprBinary = await keyFingerprint(binary, home);
  if (!fprArmored || fprArmored !== fprBinary) {
    return [{ check, artifact: CHECKSUMS_SIGNATURE_FILE, ok: false, detail: `${path.basename(armored)} and ${path.basename(binary)} must each hold the same one key (${fprArmored ?? '?'} / ${fprBinary ?? '?'})` }];
  }
  for (const keyFile of [armored, binary]) {
    const v = await verifyChecksumsSignature({ sumsFile: sums, signatureFile: sig, keyFile, fingerprint: fprArmored });
    rows.push({ check, artifact: `${CHECKSUMS_SIGNATURE_FILE} (${path.basename(keyFile)})`, ok: v.ok, detail: v.detail });
  }
  // install.sh must pin exactly this key.
  const installer = path.join(dir, INSTALL_SH);
  if (existsSync(installer)) {
    const pinned = /^RELEASE_KEY_FPR=([0-9A-F]*)$/m.exec(await readFile(installer, 'utf8'))?.[1];
    rows.push({ check: 'installer key pin', artifact: INSTALL_SH, ok: pinned === fprArmored, detail: pinned === fprArmored ? `pins the release key ${pinned}` : `pins ${pinned || 'no key'}, but SHA256SUMS is signed by ${fprArmored}` });
  }
  return rows;
}

type CdxDoc = { components?: { 'bom-ref'?: string; name: string; hashes?: { alg: string; content: string }[] }[] };

async function sbomRows(dir: string, product: Product, listed: Map<string, string>): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const sboms = [...listed.keys()].filter((n) => n.endsWith('.cdx.json') && n.startsWith(`${product.meta.name}_`));
  for (const name of sboms) {
    const file = path.join(dir, name);
    if (!existsSync(file)) {
      rows.push({ check: 'sbom', artifact: name, ok: false, detail: `listed in ${CHECKSUMS_FILE} but missing` });
      continue;
    }
    const json = await readFile(file, 'utf8');
    const errors = await validateSbom(json);
    rows.push({ check: 'sbom schema', artifact: name, ok: errors === null, detail: errors === null ? 'valid CycloneDX 1.6' : JSON.stringify(errors).slice(0, 300) });
    const doc = JSON.parse(json) as CdxDoc;
    const named = new Map((doc.components ?? []).filter((c) => c['bom-ref']?.startsWith('artifact:')).map((c) => [c.name, c.hashes?.find((h) => h.alg === 'SHA-256')?.content]));
    const problems: string[] = [];
    const assets = [...listed.keys()].filter((n) => /\.(tar\.gz|zip|deb|rpm|msi)$/.test(n));
    for (const a of assets) {
      if (!named.has(a)) problems.push(`${a} is not in the SBOM`);
      else if (named.get(a) !== listed.get(a)) problems.push(`${a}: the SBOM's digest differs from ${CHECKSUMS_FILE}`);
      else if (existsSync(path.join(dir, a)) && (await hashFile(path.join(dir, a))).sha256 !== listed.get(a)) problems.push(`${a}: the file differs from its digest`);
    }
    rows.push({ check: 'sbom assets', artifact: name, ok: !problems.length, detail: problems.length ? problems.slice(0, 4).join('; ') : `names all ${assets.length} archives and packages with their digests` });
  }
  return rows;
}

async function sigstoreRows(dir: string, trust: SigstoreTrust | undefined): Promise<CheckRow[]> {
  const bundle = path.join(dir, SIGSTORE_BUNDLE_FILE);
  if (!existsSync(bundle)) return [];
  const check = 'sigstore bundle';
  if (!trust) return [{ check, artifact: SIGSTORE_BUNDLE_FILE, ok: false, detail: 'present, but nothing to verify it against: pass --sigstore-key PEM or --sigstore-trusted-root FILE with --sigstore-identity and --sigstore-issuer' }];
  const v = await verifySigstoreBundle({ bundleFile: bundle, artifactFile: path.join(dir, CHECKSUMS_FILE), trust });
  return [{ check, artifact: SIGSTORE_BUNDLE_FILE, ok: v.ok, detail: v.detail }];
}

/** `tmp`: scratch space the caller removes. */
export async function trustRows(dir: string, tmp: string, product: Product, opts: TrustOptions = {}): Promise<CheckRow[]> {
  const sums = path.join(dir, CHECKSUMS_FILE);
  if (!existsSync(sums)) return [];
  const listed = parseChecksums(await readFile(sums, 'utf8'), sums);
  return [...(await checksumsSignatureRows(dir, product, tmp, opts.unsignedByPlan ?? false)), ...(await sbomRows(dir, product, listed)), ...(await sigstoreRows(dir, opts.sigstore))];
}
