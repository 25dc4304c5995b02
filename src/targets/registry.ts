// Every target, in build order. Order matters only where a target reads another's output.
import { archiveTarget } from './archive/index.ts';
import { checksumsTarget } from './checksums/index.ts';
import { homebrewTarget } from './homebrew/index.ts';
import { launchdTarget } from './launchd/index.ts';
import { systemdTarget } from './systemd/index.ts';
import type { Target } from './types.ts';

export const TARGETS: Target[] = [
  archiveTarget, // first: formulae, manifests and checksums need the archives' digests
  systemdTarget,
  launchdTarget,
  checksumsTarget, // after every release artifact it lists
  homebrewTarget, // reads archive digests
];
