// Plan-time errors of the artifact graph. Each names every artifact (or target) it is about.
import { EXIT, UserError } from '../errors.ts';

export class GraphError extends UserError {
  /** The artifact (or target) ids the error is about, in the order the message names them. */
  readonly ids: string[];
  constructor(message: string, ids: string[], opts: { hint: string; exitCode?: number }) {
    super(message, { hint: opts.hint, exitCode: opts.exitCode ?? EXIT.failure });
    this.name = 'GraphError';
    this.ids = ids;
  }
}
