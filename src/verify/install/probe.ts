// What the install steps ask a booted root, shared by the package, repository and install.sh checks: commands
// recorded into the current step's log, health probes, and why a unit is not active.
import type { Service } from '../../product/model.ts';
import type { Container, ExecOptions, ExecResult } from './nspawn.ts';
import type { Reporter } from '../../util/progress.ts';
import { StepFailure, StepRunner } from './steps.ts';

export type Run = (cmd: string[], opts?: ExecOptions) => Promise<ExecResult>;

/** Runs commands in `c`, each recorded in the current step's log of `steps()`; a non-zero exit fails the step. */
export function recordedRunner(c: () => Container, steps: () => StepRunner): Run {
  return async (cmd, opts) => {
    const r = await c().exec(cmd, opts);
    steps().note(`$ ${r.command}\n(exit ${r.exitCode})\n${r.stdout}${r.stderr}`);
    if (r.exitCode !== 0) throw new StepFailure(`\`${r.command}\` exited ${r.exitCode}: ${lastLine(r.stderr) || lastLine(r.stdout)}`);
    return r;
  };
}

/** One row's steps in the booted root `c` (a failed step's log gets its diagnostics), and a recorded runner for them. */
export function rowInContainer(c: Container, artifact: string, opts: { distro: string; logDir: string; report: Reporter }): { steps: StepRunner; run: Run } {
  const steps = new StepRunner(artifact, opts.distro, opts.logDir, opts.report, () => c.diagnostics());
  return { steps, run: recordedRunner(() => c, () => steps) };
}

/** The command that probes a service's health check inside a booted root (exit 0: it answers). */
export function healthProbe(s: Service): { command: string[]; what: string } | undefined {
  if (!s.health) return undefined;
  const port = s.health.portNumber;
  return s.health.type === 'tcp'
    ? { command: ['bash', '-c', 'exec 3<>"/dev/tcp/127.0.0.1/$0"', String(port)], what: `tcp 127.0.0.1:${port}` }
    : { command: ['curl', '-fsS', '-o', '/dev/null', '--max-time', String(s.health.timeoutSeconds), `http://127.0.0.1:${port}${s.health.path}`], what: `GET http://127.0.0.1:${port}${s.health.path}` };
}

/**
 * Waits (up to 60 s) for the service's health check to answer inside the system; returns what answered.
 * On a timeout `user`'s (or the system's) `systemctl status` of the service goes into the step's log.
 */
export async function waitHealthy(c: Container, s: Service, run: Run, user?: string): Promise<string> {
  const check = healthProbe(s);
  if (!check) return `${s.name}: no health check declared`;
  const { command: probe, what } = check;
  try {
    await c.waitFor(`${s.name}: ${what}`, async () => (await c.exec(probe)).exitCode === 0, 60_000);
  } catch {
    const r = await c.exec(probe);
    await run(['systemctl', ...(user ? ['--user'] : []), 'status', '--no-pager', `${s.name}.service`], { user }).catch(() => undefined);
    throw new StepFailure(`${s.name}: ${what} does not answer within 60 s (${lastLine(r.stderr) || `exit ${r.exitCode}`})`);
  }
  return `${s.name}: ${what} ok`;
}

/** Whether a health check still answers (after a removal it must not). */
export async function answers(c: Container, s: Service): Promise<boolean> {
  const check = healthProbe(s);
  return Boolean(check) && (await c.exec(check!.command)).exitCode === 0;
}

/**
 * Whether every unit is active (for the system manager, or `user`'s). Not the exit code of `systemctl
 * is-active a b c`: that is 0 when any one of them is active.
 */
export async function allActive(c: Container, units: string[], user?: string): Promise<boolean> {
  const r = await c.exec(['systemctl', ...(user ? ['--user'] : []), 'is-active', ...units], { user });
  const states = r.stdout.split('\n').filter(Boolean);
  return states.length === units.length && states.every((s) => s === 'active');
}

/**
 * Why units are not active, one clause each: state, "never started" or the result and exit status, and the
 * unit's most telling journal line (systemd's "Failed to locate executable ..." and the like).
 * `manager` is ['systemctl'] or ['systemctl', '--user'] (then `user` runs it).
 */
export async function whyNotActive(c: Container, units: string[], opts: { user?: string } = {}): Promise<string> {
  const manager = opts.user ? ['systemctl', '--user'] : ['systemctl'];
  const clauses: string[] = [];
  for (const u of units) {
    const show = (await c.exec([...manager, 'show', '--property=ActiveState,SubState,Result,ExecMainStatus,InactiveExitTimestampMonotonic,NRestarts', u], { user: opts.user })).stdout;
    const prop = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(show)?.[1] ?? '';
    if (prop('ActiveState') === 'active') continue;
    let clause = `${u} is ${prop('ActiveState') || '?'}/${prop('SubState') || '?'}`;
    if (prop('InactiveExitTimestampMonotonic') === '0') clause += ', never started';
    else {
      if (prop('Result') && prop('Result') !== 'success') clause += `, result ${prop('Result')}`;
      if (prop('ExecMainStatus') && prop('ExecMainStatus') !== '0') clause += `, exit status ${prop('ExecMainStatus')}`;
      if (Number(prop('NRestarts')) > 0) clause += `, restarted ${prop('NRestarts')} times`;
    }
    const journal = await c.exec(['journalctl', '--no-pager', '-o', 'cat', '-n', '200', opts.user ? `--user-unit=${u}` : `--unit=${u}`]);
    const lines = journal.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    // The cause (a missing executable, a refused exec) before the consequence ("Failed to start ...").
    const telling = [/Failed to locate executable|Failed at step|No such file|Permission denied/, /error/i, /Failed to/].map((re) => lines.filter((l) => re.test(l)).pop()).find(Boolean);
    if (telling) clause += `: ${telling}`;
    clauses.push(clause);
  }
  return clauses.join('; ') || 'every unit is active now';
}

export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}
