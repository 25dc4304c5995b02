// Authenticode in a build: every Windows payload is signed once into the staging directory (the user's file is
// never changed) and both the zip and the MSI take that copy, so the artifact graph still says they come from
// the payload; files the build makes itself (the service host, the MSI after its last edit) are signed in place.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { MissingToolError } from '../errors.ts';
import { splitPlatform, type Platform, type Product } from '../product/model.ts';
import { AuthenticodeSigner, OSSLSIGNCODE_INSTALL, resolveAuthenticode, type AuthenticodeMode } from '../signing/authenticode.ts';
import type { BuildContext, PlannedArtifact, WindowsSigning } from '../targets/types.ts';
import { hasTool } from '../util/exec.ts';
import type { Reporter } from '../util/progress.ts';

/** Below the staging directory; removed before the build is renamed into place (never an artifact). */
export const SIGNED_PAYLOADS_DIR = '.authenticode-signed';

/** Artifacts that ship Windows files (the Windows archives, the MSI): only builds with one need a signing decision. */
export function shipsWindowsFiles(artifacts: readonly PlannedArtifact[]): boolean {
  return artifacts.some((a) => a.scope === 'local' && a.platform !== undefined && splitPlatform(a.platform).os === 'windows');
}

/** What the build's caller asks of Authenticode (the CLI's flags); the rest comes from the environment and the definition. */
export interface AuthenticodeRequest {
  /** --unsigned-windows: ship the Windows files unsigned (a release without a code-signing key refuses otherwise). */
  unsignedWindows?: boolean;
  /** --authenticode-timestamp-url. */
  timestampUrl?: string;
}

/**
 * A build's whole Authenticode decision, taken once before anything is built. Signing is needed only when the
 * artifacts this run builds ship Windows files (a Linux-only release or a join needs no key; it records only an
 * --unsigned-windows, for the inputs digest). The key comes from the environment, else the INSECURE snapshot pair
 * for a snapshot, else a release refuses (unless --unsigned-windows). Signing needs osslsigncode: a snapshot without
 * it ships unsigned Windows files (one warning line naming the install command), a release that must sign fails.
 */
export function authenticodeForBuild(opts: {
  building: readonly PlannedArtifact[];
  request?: AuthenticodeRequest;
  product: Product;
  snapshot: boolean;
  report: Reporter;
  env?: NodeJS.ProcessEnv;
  probe?: (cmd: string) => boolean;
}): AuthenticodeMode | undefined {
  const unsignedWindows = opts.request?.unsignedWindows;
  if (!shipsWindowsFiles(opts.building)) return unsignedWindows ? { mode: 'unsigned' } : undefined;
  const mode = resolveAuthenticode({
    snapshot: opts.snapshot,
    unsignedWindows,
    timestampUrl: opts.request?.timestampUrl,
    definitionTimestampUrl: opts.product.def.release.authenticode?.timestampUrl,
    env: opts.env,
  });
  if (mode.mode === 'unsigned' || (opts.probe ?? hasTool)('osslsigncode')) return mode;
  if (!opts.snapshot) throw new MissingToolError('osslsigncode', OSSLSIGNCODE_INSTALL, 'Authenticode-signing the Windows files');
  opts.report.warn(`skipping Authenticode signing: \`osslsigncode\` not installed, the Windows files are unsigned; install: ${OSSLSIGNCODE_INSTALL}`);
  return { mode: 'unsigned' };
}

/**
 * What the inputs digest records about signing: only that Windows files ship unsigned (--unsigned-windows, or a
 * snapshot without osslsigncode), so such a build and a signed one never stand in for each other. A signed build
 * records nothing: a --local-only build and the join then match a single build (builds with a real key are never
 * reused anyway).
 */
export function authenticodeInputs(mode: AuthenticodeMode | undefined, artifacts: readonly PlannedArtifact[]): { windowsUnsigned?: true } {
  return mode?.mode === 'unsigned' && shipsWindowsFiles(artifacts) ? { windowsUnsigned: true } : {};
}

export class BuildWindowsSigning implements WindowsSigning {
  private signer: Promise<AuthenticodeSigner> | undefined;
  private readonly copies = new Map<string, Promise<{ path: string; size: number }>>();

  private readonly mode: Exclude<AuthenticodeMode, { mode: 'unsigned' }>;
  private readonly staging: string;
  private readonly product: Product;
  private readonly sourceDateEpoch: number;

  constructor(mode: Exclude<AuthenticodeMode, { mode: 'unsigned' }>, staging: string, product: Product, sourceDateEpoch: number) {
    this.mode = mode;
    this.staging = staging;
    this.product = product;
    this.sourceDateEpoch = sourceDateEpoch;
  }

  private open(): Promise<AuthenticodeSigner> {
    // The UAC prompt shows the product's name and homepage.
    return (this.signer ??= AuthenticodeSigner.open(this.mode, { sourceDateEpoch: this.sourceDateEpoch, description: this.product.meta.displayName, url: this.product.meta.homepage }));
  }

  payload(ctx: BuildContext, component: string, platform: Platform): Promise<{ path: string; size: number }> {
    const key = `${component}/${platform}`;
    let copy = this.copies.get(key);
    if (!copy) {
      const payload = ctx.payload(component, platform);
      copy = (async () => {
        const dest = path.join(this.staging, SIGNED_PAYLOADS_DIR, platform, component, path.basename(payload.path));
        await mkdir(path.dirname(dest), { recursive: true });
        ctx.report.progress(`authenticode: signing ${component} (${platform})`);
        const signed = await (await this.open()).sign(payload.path, dest);
        return { path: dest, size: signed.size };
      })();
      this.copies.set(key, copy);
    }
    return copy;
  }

  async signBuilt(file: string): Promise<void> {
    await (await this.open()).sign(file);
  }

  async close(): Promise<void> {
    const signer = await this.signer?.catch(() => undefined);
    await signer?.close();
  }
}
