// `build` options for the package repositories: decides signing and checks --repo-base before anything is built.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../errors.ts';
import type { Plan } from '../plan/plan.ts';
import type { Product } from '../product/model.ts';
import { repoSigningSession } from '../targets/repo-common.ts';
import type { RepoOptions } from '../targets/types.ts';
import type { Reporter } from '../util/progress.ts';

export interface RepoFlags {
  signingKey?: string;
  unsigned?: boolean;
  repoBase?: string;
  repoUrl?: string;
}

// Every target that signs (the RPMs, the repositories, SHA256SUMS), or pins the signing key (install.sh).
const REPO_TARGETS = ['rpm', 'apt-repo', 'yum-repo', 'checksums-signature', 'installer'];

/**
 * Repository options for one build and the cleanup that removes the temporary GNUPGHOME (call it always).
 * The key is imported and proven to sign here, before anything is built: a wrong passphrase fails fast.
 */
export async function repoSession(product: Product, plan: Plan, flags: RepoFlags, report: Reporter, sourceDateEpoch: number): Promise<{ options?: RepoOptions; close(): Promise<void> }> {
  if (!plan.targets.some((t) => REPO_TARGETS.includes(t))) return { close: async () => {} };
  if (flags.repoBase && !(existsSync(flags.repoBase) && statSync(flags.repoBase).isDirectory())) {
    throw new UserError(`--repo-base ${flags.repoBase}: no such directory`, {
      hint: 'pass the published repository tree (the folder holding apt/ and yum/, e.g. a previous dist/<version>/repo)',
      exitCode: EXIT.usage,
    });
  }
  if (flags.repoUrl && !/^(https?|file):\/\//.test(flags.repoUrl)) {
    throw new UserError(`--repo-url ${flags.repoUrl}: not an http(s):// or file:// URL`, { exitCode: EXIT.usage });
  }
  const session = repoSigningSession(product, { ...flags, snapshot: plan.snapshot, sourceDateEpoch, warn: (l) => report.warn(l) });
  await session.signer();
  return {
    options: { signer: () => session.signer(), base: flags.repoBase ? path.resolve(flags.repoBase) : undefined, url: flags.repoUrl },
    close: () => session.close(),
  };
}
