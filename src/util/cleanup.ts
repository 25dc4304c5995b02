// The one place that undoes what a run has in flight when it is interrupted. Code that creates something
// which must not outlive the run (the signing home with its key and passphrase, a temp or staging folder)
// registers its removal here; on SIGINT, SIGTERM or SIGHUP the CLI stops every child process (xz, rpmbuild,
// gpg, wixl, go, ...), runs the registered cleanups newest first and exits 128 + the signal number
// (130, 143, 129). Normal completion disposes of each registration itself.
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

type Undo = () => Promise<void> | void;

export interface Registration {
  /** Runs the cleanup now (once) and forgets it. */
  dispose(): Promise<void>;
}

const pending = new Set<{ undo: Undo }>();
let interruptedBy: NodeJS.Signals | undefined;
/** Marks the cleanups' own work, which may still run commands (gpgconf --kill) after an interruption. */
const cleaning = new AsyncLocalStorage<boolean>();

export function registerCleanup(undo: Undo): Registration {
  const entry = { undo };
  pending.add(entry);
  let done: Promise<void> | undefined;
  return {
    dispose() {
      pending.delete(entry);
      done ??= Promise.resolve().then(undo);
      return done;
    },
  };
}

/** A fresh directory under the temp dir that is removed on dispose() or when the run is interrupted. */
export async function makeTempDir(prefix: string): Promise<{ path: string } & Registration> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const reg = registerCleanup(() => rm(dir, { recursive: true, force: true }));
  return { path: dir, dispose: reg.dispose };
}

export function interruption(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/** Throws once the run is being interrupted, so no new command starts while the cleanups run. */
export function assertNotInterrupted(what: string): void {
  if (interruptedBy && !cleaning.getStore()) throw new Error(`${what}: not started, the run was interrupted by ${interruptedBy}`);
}

/** pid -> parent pid of every process (Linux: /proc; elsewhere: ps). */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  if (existsSync('/proc/self/stat')) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        table.set(Number(name), ppid);
      } catch {
        // the process ended while the table was read
      }
    }
    return table;
  }
  try {
    for (const line of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid && ppid !== undefined) table.set(pid, ppid);
    }
  } catch {
    // no ps: the children still get the terminal's SIGINT through the process group
  }
  return table;
}

/** Every process descended from `root` (children, their children, ...). */
export function descendants(root = process.pid): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) {
      if (ppid === parent && !out.includes(pid)) {
        out.push(pid);
        queue.push(pid);
      }
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that owns a `...-<pid>` leftover has ended (so the leftover may be removed). */
export function ownerGone(pid: number): boolean {
  return pid !== process.pid && !alive(pid);
}

/** SIGTERM to every descendant, then SIGKILL to the ones still there after a grace period. */
async function stopChildren(): Promise<void> {
  const pids = descendants();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function interrupt(signal: NodeJS.Signals): Promise<never> {
  interruptedBy = signal;
  await stopChildren();
  await cleaning.run(true, async () => {
    for (const entry of [...pending].reverse()) {
      pending.delete(entry);
      try {
        await entry.undo();
      } catch {
        // best effort: the remaining cleanups still run
      }
    }
  });
  await stopChildren(); // anything an unwinding caller started meanwhile
  process.exit(128 + (os.constants.signals[signal] ?? 0));
}

/** Installed by the CLI entry point only (tests that import modules keep Node's default handling). */
export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second signal while cleaning up: leave at once.
      if (interruptedBy) process.exit(128 + (os.constants.signals[signal] ?? 0));
      void interrupt(signal);
    });
  }
}

/**
 * Test hook: with STIGMER_DIST_TEST_PAUSE_AT=<phase> the run stops at that phase (announcing it on stderr)
 * and waits for a signal, so the signal tests hit "during signing" or "during compression" exactly.
 */
export async function pausePoint(phase: string): Promise<void> {
  if (process.env.STIGMER_DIST_TEST_PAUSE_AT !== phase) return;
  process.stderr.write(`stigmer-dist: paused at ${phase} (pid ${process.pid})\n`);
  await new Promise<never>(() => setInterval(() => {}, 1 << 30));
}
