// User-facing errors. Only the CLI entry point turns these into exit codes.

export const EXIT = {
  ok: 0,
  failure: 1, // a build, verify or render --check found a problem
  usage: 2, // bad command line
  config: 3, // the product definition (or another input file) is invalid
  missingTool: 4, // a release build needs an external tool that is not installed
  network: 5, // a download or publish failed after its retries
} as const;

export class UserError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'UserError';
    this.exitCode = opts.exitCode ?? EXIT.failure;
    this.hint = opts.hint;
  }
}

export interface Problem {
  file: string;
  line?: number;
  column?: number;
  field: string;
  message: string;
  fix: string;
}

export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.field || '(root)'}: ${p.message}\n    fix: ${p.fix}`;
}

/** One or more problems in an input file, reported together. */
export class DefinitionError extends UserError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the product definition:\n` +
        problems.map(formatProblem).join('\n'),
      { exitCode: EXIT.config },
    );
    this.name = 'DefinitionError';
    this.problems = problems;
  }
}

/** An external tool a target needs is missing. Snapshot builds skip the target; release builds fail. */
export class MissingToolError extends UserError {
  readonly tool: string;
  readonly install: string;
  constructor(tool: string, install: string, what: string) {
    super(`${what} needs \`${tool}\`, which is not installed`, { hint: `install it: ${install}`, exitCode: EXIT.missingTool });
    this.name = 'MissingToolError';
    this.tool = tool;
    this.install = install;
  }
}
