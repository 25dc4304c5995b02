// Secret values (tokens, signing-key passphrases) known to this process, and redaction of any text that is
// about to be printed or raised: they never reach a log line, an error message or an artifact.
import type { Reporter } from './progress.ts';

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_KEY|SIGNING_KEY|API_KEY|PKCS12)/i;

export class Secrets {
  private values: string[] = [];

  /** Every environment value whose name says it is a secret (GITHUB_TOKEN, GH_TOKEN, ..._PASSPHRASE, ...). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Secrets {
    const s = new Secrets();
    for (const [k, v] of Object.entries(env)) if (SECRET_NAME.test(k)) s.add(v);
    return s;
  }

  add(value: string | undefined): this {
    // Very short values would redact ordinary words; real tokens are long.
    if (value && value.length >= 6 && !this.values.includes(value)) {
      this.values.push(value);
      this.values.sort((a, b) => b.length - a.length);
    }
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  /** Whether `text` holds any secret (for checks before something is written). */
  leaks(text: string): boolean {
    return this.values.some((v) => text.includes(v));
  }
}

/** A reporter whose every line is redacted first. */
export function redactingReporter(inner: Reporter, secrets: Secrets): Reporter {
  return {
    info: (line) => inner.info(secrets.redact(line)),
    warn: (line) => inner.warn(secrets.redact(line)),
    progress: (line) => inner.progress(secrets.redact(line)),
    done: () => inner.done(),
  };
}
