// Secret values (tokens, signing-key passphrases) known to this process, and redaction of any text that is
// about to be printed or raised: they never reach a log line, an error message or an artifact.

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_KEY|SIGNING_KEY|API_KEY|PKCS12)/i;

export class Secrets {
  private values: string[] = [];
  /** What each value is, for messages (an environment variable's name, never the value). */
  private readonly names = new Map<string, string>();

  /** Every environment value whose name says it is a secret (GITHUB_TOKEN, GH_TOKEN, ..._PASSPHRASE, ...). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Secrets {
    const s = new Secrets();
    for (const [k, v] of Object.entries(env)) if (SECRET_NAME.test(k)) s.add(v, `$${k}`);
    return s;
  }

  add(value: string | undefined, name = 'a secret'): this {
    // Very short values would redact ordinary words; real tokens are long.
    if (value && value.length >= 6 && !this.values.includes(value)) {
      this.values.push(value);
      this.values.sort((a, b) => b.length - a.length);
      this.names.set(value, name);
    }
    return this;
  }

  /** The name of a secret that `data` holds, if any (checked before an artifact is written). */
  leakedIn(data: string | Uint8Array): string | undefined {
    const buf = typeof data === 'string' ? undefined : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const found = this.values.find((v) => (buf ? buf.includes(v) : (data as string).includes(v)));
    return found === undefined ? undefined : this.names.get(found);
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

let shared: Secrets | undefined;

/**
 * The one redaction path of this process: every secret in its environment (tokens, the signing key and its
 * passphrase), plus any added at run time. The CLI's error output, every reporter line and every file
 * written through writeFileAtomic go through it.
 */
export function processSecrets(): Secrets {
  return (shared ??= Secrets.fromEnv(process.env));
}

export function redact(text: string): string {
  return processSecrets().redact(text);
}
