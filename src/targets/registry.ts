// Every target, one line each. The order of building comes from the artifact graph (each artifact after its
// inputs), the order of planning from what each target consumes; this order only breaks ties.
import { TargetRegistry } from '../graph/index.ts';
import { aptRepoTarget } from './apt-repo/index.ts';
import { archiveTarget } from './archive/index.ts';
import { checksumsTarget } from './checksums/index.ts';
import { checksumsSignatureTarget } from './checksums-signature/index.ts';
import { debTarget } from './deb/index.ts';
import { homebrewTarget } from './homebrew/index.ts';
import { installerTarget } from './installer/index.ts';
import { launchdTarget } from './launchd/index.ts';
import { msiTarget } from './msi/index.ts';
import { rpmTarget } from './rpm/index.ts';
import { sbomTarget } from './sbom/index.ts';
import { scoopTarget } from './scoop/index.ts';
import { systemdTarget } from './systemd/index.ts';
import { wingetTarget } from './winget/index.ts';
import { yumRepoTarget } from './yum-repo/index.ts';
import type { PlanContext, Target } from './types.ts';

export const TARGETS: readonly Target[] = [
  archiveTarget,
  systemdTarget,
  launchdTarget,
  debTarget,
  rpmTarget,
  aptRepoTarget,
  yumRepoTarget,
  installerTarget,
  msiTarget,
  sbomTarget,
  checksumsTarget,
  checksumsSignatureTarget,
  homebrewTarget,
  wingetTarget,
  scoopTarget,
];

/** A registry holds targets that plan (GraphTarget) and build (Target). */
export class BuildRegistry extends TargetRegistry<PlanContext> {
  constructor(targets: readonly Target[] = TARGETS) {
    super(targets);
  }
  get(id: string): Target | undefined {
    return this.targets.find((t) => t.id === id) as Target | undefined;
  }
  override register(target: Target): this {
    return super.register(target);
  }
}

/** The registry of the built-in targets; a test builds its own (new BuildRegistry().register(extra)). */
export const defaultRegistry = (): BuildRegistry => new BuildRegistry();
