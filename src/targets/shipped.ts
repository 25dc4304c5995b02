// The payload file a target packs: on Windows the build's Authenticode-signed copy (src/build/windows-signing.ts).
import { splitPlatform, type Platform } from '../product/model.ts';
import type { BuildContext } from './types.ts';

/**
 * The payload file a target packs for `platform`: on Windows, the build's signed copy (when the build signs);
 * elsewhere, or in a build that does not sign, the payload as given.
 */
export async function shippedPayload(ctx: BuildContext, component: string, platform: Platform): Promise<{ path: string; size: number }> {
  if (ctx.windowsSigning && splitPlatform(platform).os === 'windows') return ctx.windowsSigning.payload(ctx, component, platform);
  const p = ctx.payload(component, platform);
  return { path: p.path, size: p.size };
}
