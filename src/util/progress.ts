// Progress output: a live status line on an interactive terminal, plain timestamp-free lines in CI or a pipe.
// Every line is redacted (src/util/secrets.ts) before it is printed.
import { redact, type Secrets } from './secrets.ts';

export interface Reporter {
  /** A step started or finished: always printed. */
  info(line: string): void;
  warn(line: string): void;
  /** Transient progress ("packing deb 3/10"): a redrawn line on a TTY, nothing in CI (the step lines say it). */
  progress(line: string): void;
  done(): void;
}

export function createReporter(opts: { stream?: NodeJS.WriteStream; quiet?: boolean; interactive?: boolean } = {}): Reporter {
  const stream = opts.stream ?? process.stderr;
  const interactive = opts.interactive ?? (Boolean(stream.isTTY) && !process.env.CI && process.env.TERM !== 'dumb');
  let live = false;
  const clear = () => {
    if (live) {
      stream.write('\r\x1b[2K');
      live = false;
    }
  };
  return {
    info(line) {
      if (opts.quiet) return;
      clear();
      stream.write(`${redact(line)}\n`);
    },
    warn(line) {
      clear();
      stream.write(`warning: ${redact(line)}\n`);
    },
    progress(line) {
      if (opts.quiet || !interactive) return;
      line = redact(line);
      const width = (stream.columns ?? 80) - 1;
      stream.write(`\r\x1b[2K${line.length > width ? line.slice(0, width - 1) + '…' : line}`);
      live = true;
    },
    done: clear,
  };
}

export const silentReporter: Reporter = { info() {}, warn() {}, progress() {}, done() {} };

/** A reporter whose every line is redacted first. */
export function redactingReporter(inner: Reporter, secrets: Secrets): Reporter {
  return {
    info: (line) => inner.info(secrets.redact(line)),
    warn: (line) => inner.warn(secrets.redact(line)),
    progress: (line) => inner.progress(secrets.redact(line)),
    done: () => inner.done(),
  };
}
