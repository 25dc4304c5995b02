// The rows of `verify --install` and the runner that times each step, keeps the log of a failing one, and
// skips what depends on it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Reporter } from '../../util/progress.ts';

export type StepResult = 'ok' | 'FAIL' | 'skip';

export interface InstallRow {
  artifact: string;
  /** debian-12, debian-13, windows (wine64) */
  platform: string;
  step: string;
  result: StepResult;
  detail: string;
  seconds: number;
  /** The failing step's log, kept on disk. */
  log?: string;
}

/** A check that did not hold: its message is the row's detail, `log` goes into the kept log file. */
export class StepFailure extends Error {
  readonly log: string;
  constructor(message: string, log = '') {
    super(message);
    this.log = log;
  }
}

/** Runs the steps of one artifact on one platform in order; after a failure the rest are reported as skipped. */
export class StepRunner {
  readonly rows: InstallRow[] = [];
  private failed?: string;
  /** Command transcript of the current step (what ran, what it printed). */
  private transcript: string[] = [];

  private readonly artifact: string;
  private readonly platform: string;
  private readonly logDir: string;
  private readonly report: Reporter;
  /** Extra diagnostics for a failing step's log (the system journal, the console). */
  private readonly diagnostics: () => Promise<string>;

  constructor(artifact: string, platform: string, logDir: string, report: Reporter, diagnostics: () => Promise<string> = async () => '') {
    this.artifact = artifact;
    this.platform = platform;
    this.logDir = logDir;
    this.report = report;
    this.diagnostics = diagnostics;
  }

  get ok(): boolean {
    return !this.failed;
  }

  /** Adds to the current step's log. */
  note(text: string): void {
    this.transcript.push(text);
  }

  async step(name: string, body: () => Promise<string | void>): Promise<boolean> {
    if (this.failed) {
      this.rows.push({ artifact: this.artifact, platform: this.platform, step: name, result: 'skip', detail: `after the failed step "${this.failed}"`, seconds: 0 });
      return false;
    }
    this.report.progress(`${this.platform} ${this.artifact}: ${name}`);
    this.transcript = [];
    const started = Date.now();
    try {
      const detail = (await body()) ?? '';
      this.rows.push({ artifact: this.artifact, platform: this.platform, step: name, result: 'ok', detail, seconds: seconds(started) });
      this.report.info(`${this.platform} ${this.artifact}: ${name} ok`);
      return true;
    } catch (err) {
      this.failed = name;
      const message = (err as Error).message.split('\n')[0]!;
      const log = path.join(this.logDir, `${this.platform}-${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.log`);
      const extra = err instanceof StepFailure ? err.log : ((err as Error).stack ?? '');
      await mkdir(this.logDir, { recursive: true });
      await writeFile(log, [`step: ${name} (${this.platform}, ${this.artifact})`, `error: ${(err as Error).message}`, ...this.transcript, extra, await this.diagnostics().catch(() => '')].join('\n\n') + '\n');
      this.rows.push({ artifact: this.artifact, platform: this.platform, step: name, result: 'FAIL', detail: `${message} (log: ${log})`, seconds: seconds(started), log });
      this.report.warn(`${this.platform} ${this.artifact}: ${name} FAILED: ${message}`);
      return false;
    }
  }
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

export function formatInstallTable(rows: InstallRow[]): string {
  const head = ['ARTIFACT', 'PLATFORM', 'STEP', 'RESULT', 'SECONDS', 'DETAIL'];
  const cells = rows.map((r) => [r.artifact, r.platform, r.step, r.result, r.seconds.toFixed(1), r.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]!))).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}
