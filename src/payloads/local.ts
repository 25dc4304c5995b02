// Payloads from a local folder of real binaries: DIR/<platform>/<binary>[.exe], e.g. dist-bin/linux-amd64/stigmer-server.
import { lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { UserError, EXIT } from '../errors.ts';
import { exeName, type Platform, type Product } from '../product/model.ts';
import { mapLimit } from '../util/concurrency.ts';
import { hashFile } from '../util/fsx.ts';
import type { DigestCache } from '../util/digest-cache.ts';
import type { UncheckedPayload } from '../targets/types.ts';

export interface PayloadNeed {
  component: string;
  platform: Platform;
}

/** Every (component, platform) pair a plan needs a binary for. */
export function payloadNeeds(product: Product, platforms: Platform[]): PayloadNeed[] {
  return product.components.flatMap((c) => c.platforms.filter((p) => platforms.includes(p)).map((platform) => ({ component: c.name, platform })));
}

export function localPayloadPath(dir: string, product: Product, need: PayloadNeed): string {
  const c = product.components.find((x) => x.name === need.component)!;
  return path.join(dir, need.platform, exeName(c.binary, need.platform));
}

export async function localPayloads(dir: string, product: Product, needs: PayloadNeed[], digests?: DigestCache): Promise<UncheckedPayload[]> {
  const missing: string[] = [];
  const notRegular: string[] = [];
  const found: { need: PayloadNeed; file: string }[] = [];
  for (const need of needs) {
    const file = path.resolve(localPayloadPath(dir, product, need));
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st?.isFile()) found.push({ need, file });
    else if (st) notRegular.push(`${file} (${need.component} for ${need.platform}: ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'a device, socket or pipe'})`);
    else missing.push(file);
  }
  // The file itself is packaged, never what a link points to (a link to /etc/hostname is no binary).
  if (notRegular.length) {
    throw new UserError(`--from ${dir}: ${notRegular.length} payload${notRegular.length > 1 ? 's are' : ' is'} not a regular file:\n${notRegular.map((m) => `  ${m}`).join('\n')}`, {
      hint: 'put the binaries themselves there (copy them): links, folders and special files are never packaged',
      exitCode: EXIT.config,
    });
  }
  if (missing.length) {
    throw new UserError(`--from ${dir}: ${missing.length} payload file${missing.length > 1 ? 's are' : ' is'} missing:\n${missing.map((m) => `  ${m}`).join('\n')}`, {
      hint: 'lay the binaries out as DIR/<platform>/<binary> (".exe" on Windows), or limit the build with --platform',
      exitCode: EXIT.config,
    });
  }
  // One reader per core: more only adds buffered chunks in memory (all 25 at once: 265 vs 209 MiB peak for a cold 1x build), not speed.
  const payloads = await mapLimit(found, availableParallelism(), async ({ need, file }) => ({
    ...need,
    path: path.resolve(file),
    origin: 'local' as const,
    ...(await (digests ? digests.hash(file) : hashFile(file))),
  }));
  await digests?.save();
  return payloads;
}
