// Committing files to a GitHub repository through the git data API (no clone): blobs, one tree on top of the
// branch's tree, one commit, then the branch ref. Idempotent: files whose git blob id already matches are left
// alone, and when nothing differs there is no commit at all.
import { createHash } from 'node:crypto';
import { githubError, isNotFound, type Github } from '../sources/github-api.ts';
import type { Secrets } from '../util/secrets.ts';
import { describeBody, type Write } from './types.ts';

export interface RepoFile {
  /** Path in the repository, "/" separated. */
  path: string;
  content: Buffer;
}

/** The id git gives a blob: sha1("blob <size>\0" + content). */
export function gitBlobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export interface CommitPlanOptions {
  gh: Github;
  apiBase: string;
  owner: string;
  repo: string;
  branch: string;
  /** Where a missing branch starts: a commit sha (e.g. the upstream default branch's head, for a fork). */
  startFrom: () => Promise<string>;
  files: RepoFile[];
  message: string;
  secrets?: Secrets;
}

export interface CommitPlan {
  /** Files that differ from the branch (or from its start point when the branch does not exist yet). */
  changed: string[];
  branchExists: boolean;
  writes: Write[];
  /** The new commit's sha once the writes ran. */
  result: () => string | undefined;
}

/** Reads the branch and plans the writes that make it hold `files` (none when it already does). */
export async function planCommit(opts: CommitPlanOptions): Promise<CommitPlan> {
  const { gh, owner, repo, branch } = opts;
  const repoName = `${owner}/${repo}`;
  const api = `${opts.apiBase}/repos/${owner}/${repo}`;
  const fail = (err: unknown, what: string) => githubError(err, what, repoName, opts.secrets);
  let head: string;
  let branchExists = true;
  try {
    head = (await gh.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha;
  } catch (err) {
    if (!isNotFound(err)) throw fail(err, `reading the branch ${branch} of ${repoName}`);
    branchExists = false;
    head = await opts.startFrom();
  }
  const present = new Map<string, string>();
  let baseTree: string;
  try {
    baseTree = (await gh.rest.git.getCommit({ owner, repo, commit_sha: head })).data.tree.sha;
    const tree = (await gh.rest.git.getTree({ owner, repo, tree_sha: baseTree, recursive: 'true' })).data;
    for (const e of tree.tree) if (e.type === 'blob' && e.path && e.sha) present.set(e.path, e.sha);
    if (tree.truncated) {
      // Very large trees come back truncated: ask for each of our files directly.
      for (const f of opts.files) {
        if (present.has(f.path)) continue;
        try {
          const c = (await gh.rest.repos.getContent({ owner, repo, path: f.path, ref: head })).data;
          if (!Array.isArray(c) && c.type === 'file') present.set(f.path, c.sha);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  } catch (err) {
    throw fail(err, `reading the files of ${repoName}@${branch}`);
  }
  const changed = opts.files.filter((f) => present.get(f.path) !== gitBlobSha(f.content)).sort((a, b) => (a.path < b.path ? -1 : 1));
  let commitSha: string | undefined;
  const writes: Write[] = [];
  if (!changed.length) return { changed: [], branchExists, writes, result: () => undefined };
  const blobShas = new Map<string, string>();
  for (const f of changed) {
    writes.push({
      request: `POST ${api}/git/blobs (${f.path}, ${f.content.length} bytes, blob ${gitBlobSha(f.content)})`,
      what: `uploading ${f.path} to ${repoName}`,
      run: async () => {
        try {
          blobShas.set(f.path, (await gh.rest.git.createBlob({ owner, repo, content: f.content.toString('base64'), encoding: 'base64' })).data.sha);
        } catch (err) {
          throw fail(err, `uploading ${f.path} to ${repoName}`);
        }
      },
    });
  }
  let treeSha = '';
  writes.push({
    request: `POST ${api}/git/trees ${describeBody({ base_tree: baseTree, tree: changed.map((f) => ({ path: f.path, mode: '100644', type: 'blob' })) })}`,
    what: `writing the tree of ${repoName}`,
    run: async () => {
      try {
        const tree = changed.map((f) => ({ path: f.path, mode: '100644' as const, type: 'blob' as const, sha: blobShas.get(f.path)! }));
        treeSha = (await gh.rest.git.createTree({ owner, repo, base_tree: baseTree, tree })).data.sha;
      } catch (err) {
        throw fail(err, `writing the tree of ${repoName}`);
      }
    },
  });
  writes.push({
    request: `POST ${api}/git/commits ${describeBody({ message: opts.message, parents: [head] })}`,
    what: `committing to ${repoName}: ${opts.message}`,
    run: async () => {
      try {
        commitSha = (await gh.rest.git.createCommit({ owner, repo, message: opts.message, tree: treeSha, parents: [head] })).data.sha;
      } catch (err) {
        throw fail(err, `committing to ${repoName}`);
      }
    },
  });
  writes.push(
    branchExists
      ? {
          request: `PATCH ${api}/git/refs/heads/${branch} {"sha":"<the new commit>","force":false}`,
          what: `moving ${repoName} ${branch} to the new commit`,
          run: async () => {
            try {
              await gh.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: commitSha!, force: false });
            } catch (err) {
              throw fail(err, `updating the branch ${branch} of ${repoName} (if it moved meanwhile, run publish again)`);
            }
          },
        }
      : {
          request: `POST ${api}/git/refs {"ref":"refs/heads/${branch}","sha":"<the new commit>"}`,
          what: `creating the branch ${branch} on ${repoName}`,
          run: async () => {
            try {
              await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: commitSha! });
            } catch (err) {
              throw fail(err, `creating the branch ${branch} on ${repoName}`);
            }
          },
        },
  );
  return { changed: changed.map((f) => f.path), branchExists, writes, result: () => commitSha };
}

/** Plans an open pull request from `head` ("owner:branch") into `base`, unless one is already open. */
export async function planPullRequest(opts: {
  gh: Github;
  apiBase: string;
  owner: string;
  repo: string;
  head: string;
  base: string;
  title: string;
  body: string;
  secrets?: Secrets;
}): Promise<{ existing?: string; writes: Write[] }> {
  const { gh, owner, repo } = opts;
  const repoName = `${owner}/${repo}`;
  try {
    const open = await gh.rest.pulls.list({ owner, repo, head: opts.head, base: opts.base, state: 'open', per_page: 100 });
    const pr = open.data.find((p) => `${p.head.repo?.owner.login ?? ''}:${p.head.ref}` === opts.head || p.head.label === opts.head);
    if (pr) return { existing: pr.html_url, writes: [] };
  } catch (err) {
    throw githubError(err, `listing the pull requests of ${repoName}`, repoName, opts.secrets);
  }
  return {
    writes: [
      {
        request: `POST ${opts.apiBase}/repos/${owner}/${repo}/pulls ${describeBody({ title: opts.title, head: opts.head, base: opts.base })}`,
        what: `opening a pull request on ${repoName}: ${opts.title}`,
        run: async () => {
          try {
            await gh.rest.pulls.create({ owner, repo, title: opts.title, head: opts.head, base: opts.base, body: opts.body, maintainer_can_modify: true });
          } catch (err) {
            throw githubError(err, `opening a pull request on ${repoName}`, repoName, opts.secrets);
          }
        },
      },
    ],
  };
}
