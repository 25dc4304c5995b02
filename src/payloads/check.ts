// The one check every payload passes, whatever brought it in (a --from folder, a GitHub release asset, a pinned
// upstream download, a stand-in), before any target runs: a regular file (no link, no device) holding an
// executable of its platform's format and CPU (ELF, Mach-O, PE; a universal Mach-O holding the architecture
// counts). A script or a binary of another platform never reaches an archive, package, MSI or formula. What
// the check read (e.g. an ELF's linkage) travels with the payload for the targets that need it.
import type { Payload, UncheckedPayload } from '../targets/types.ts';
import { checkPayloadBinary } from '../util/binary-format.ts';

export async function checkPayloads(payloads: readonly UncheckedPayload[]): Promise<Payload[]> {
  const checked: Payload[] = [];
  // One at a time, in order: the first bad payload is reported, each read is a few small ranges.
  for (const p of payloads) checked.push({ ...p, binary: await checkPayloadBinary(p.path, p.platform, `payload of ${p.component} for ${p.platform}`) });
  return checked;
}
