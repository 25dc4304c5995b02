// Every target, in build order. Order matters only where a target reads another's output.
import { aptRepoTarget } from './apt-repo/index.ts';
import { archiveTarget } from './archive/index.ts';
import { checksumsTarget } from './checksums/index.ts';
import { debTarget } from './deb/index.ts';
import { homebrewTarget } from './homebrew/index.ts';
import { installerTarget } from './installer/index.ts';
import { launchdTarget } from './launchd/index.ts';
import { msiTarget } from './msi/index.ts';
import { rpmTarget } from './rpm/index.ts';
import { scoopTarget } from './scoop/index.ts';
import { systemdTarget } from './systemd/index.ts';
import { wingetTarget } from './winget/index.ts';
import { yumRepoTarget } from './yum-repo/index.ts';
import type { Target } from './types.ts';

export const TARGETS: Target[] = [
  archiveTarget, // first: formulae, manifests and checksums need the archives' digests
  systemdTarget,
  launchdTarget,
  debTarget, // release assets: before checksums (SHA256SUMS lists them) and the APT repository
  rpmTarget, // release assets: before checksums and the YUM repository
  aptRepoTarget, // after deb: indexes this build's .deb packages (plus --repo-base), not a release asset
  yumRepoTarget, // after rpm: signs copies of this build's RPMs and indexes them (plus --repo-base)
  installerTarget, // install.sh / install.ps1 are release assets: before checksums
  msiTarget, // release asset: before checksums
  checksumsTarget, // after every release artifact it lists
  homebrewTarget, // reads archive digests
  wingetTarget, // reads the MSI's digest
  scoopTarget, // reads the Windows CLI zip's digest
];
