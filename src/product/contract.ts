// The command-line contract of an upstream program (components[].upstream.contract): the subcommand a service
// runs and the flags it accepts, kept beside the definition. A service's args are checked against it at plan
// time, so a command line the real program refuses fails the build, not the user's machine; the snapshot
// stand-in (standin/contract.go) enforces the same contract when it runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import * as z from 'zod';

const flagName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a long flag name without dashes, like "db-filename"');

export const flagContractSchema = z.strictObject({
  program: z.string().min(1),
  version: z.string().min(1),
  // The first line `<program> --version` prints; the smoke check and the stand-in use it.
  versionOutput: z.string().min(1).optional(),
  // Words before the flags (the subcommand); the command takes no positional arguments.
  command: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a subcommand word like "start-dev"')).default([]),
  flags: z
    .array(
      z.strictObject({
        name: flagName,
        short: z.string().regex(/^[A-Za-z]$/, 'must be one letter').optional(),
        // Whether the flag takes a value (the next argument or --flag=value); false: a boolean switch.
        value: z.boolean(),
        // The only values accepted, when the flag has a fixed set.
        values: z.array(z.string()).optional(),
      }),
    )
    .min(1),
});

export type FlagContract = z.infer<typeof flagContractSchema>;

/** A contract file's problem, phrased for the definition's field that names the file. */
export class ContractFileError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.fix = fix;
  }
}

export function loadContract(file: string): FlagContract {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ENOENT';
    throw new ContractFileError(
      missing ? `contract file ${file} does not exist` : `cannot read contract file ${file}: ${(err as Error).message.split('\n')[0]}`,
      missing ? 'fix the path (relative to the definition) or add the file' : 'fix the YAML of the contract file',
    );
  }
  const result = flagContractSchema.safeParse(raw, { jitless: true }); // parsed once: see parseProduct
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new ContractFileError(`contract file ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, 'fix the contract file (format: src/product/contract.ts)');
  }
  return result.data;
}

export function contractPath(definitionDir: string, contract: string): string {
  return path.resolve(definitionDir, contract);
}

export interface ArgProblem {
  /** Index into the args the problem is at. */
  index: number;
  message: string;
  fix: string;
}

const BOOL_VALUES = ['1', '0', 't', 'f', 'T', 'F', 'true', 'false', 'TRUE', 'FALSE', 'True', 'False'];
const PLACEHOLDER = /\{[a-zA-Z]+(:[a-z0-9-]+)?\}/;

/**
 * The problems of a command line under the contract, as the program's flag parser (cobra/pflag) sees them:
 * the subcommand words first, then --long, --long=value, -s, -sVALUE or -s VALUE; no positional arguments.
 * Values holding a placeholder ({stateDir}, {port:NAME}) are not compared with a fixed value set.
 */
export function checkArgs(contract: FlagContract, args: readonly string[]): ArgProblem[] {
  const out: ArgProblem[] = [];
  const commandLine = [contract.program, ...contract.command].join(' ');
  const accepted = () => contract.flags.map((f) => `--${f.name}`).join(', ');
  for (const [i, word] of contract.command.entries()) {
    if (args[i] !== word) {
      out.push({ index: Math.min(i, Math.max(args.length - 1, 0)), message: `the command must start with "${contract.command.join(' ')}" (${commandLine}), got ${JSON.stringify(args[i] ?? '(nothing)')}`, fix: `begin args with ${contract.command.map((w) => JSON.stringify(w)).join(', ')}` });
      return out;
    }
  }
  for (let i = contract.command.length; i < args.length; i++) {
    const arg = args[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    let flag: FlagContract['flags'][number] | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      flag = contract.flags.find((f) => f.name === name);
      if (!flag) {
        out.push({ index: i, message: `unknown flag: --${name} (${commandLine} ${contract.version} does not accept it)`, fix: `remove it or use one of: ${accepted()}` });
        continue;
      }
    } else if (arg.startsWith('-') && arg.length > 1 && arg !== '--') {
      const short = arg[1]!;
      flag = contract.flags.find((f) => f.short === short);
      if (!flag) {
        out.push({ index: i, message: `unknown shorthand flag: '${short}' in ${arg} (${commandLine} ${contract.version})`, fix: `use one of: ${accepted()}` });
        continue;
      }
      name = flag.name;
      const rest = arg.slice(2);
      inline = rest === '' ? undefined : rest.startsWith('=') ? rest.slice(1) : flag.value ? rest : undefined;
      if (!flag.value && rest !== '' && !rest.startsWith('=')) {
        out.push({ index: i, message: `${arg}: -${short} takes no value and combined short flags are not supported here`, fix: 'write each flag separately' });
        continue;
      }
    } else {
      out.push({ index: i, message: `unexpected argument ${JSON.stringify(arg)}: ${commandLine} takes no positional arguments`, fix: `remove it, or put the flag that takes it before it (accepted flags: ${accepted()})` });
      continue;
    }
    let value = inline;
    if (flag.value && value === undefined) {
      if (i + 1 >= args.length) {
        out.push({ index: i, message: `flag needs an argument: --${name}`, fix: `add the value after --${name}` });
        continue;
      }
      value = args[++i]!;
    }
    if (!flag.value && value !== undefined && !BOOL_VALUES.includes(value)) {
      out.push({ index: i, message: `invalid argument ${JSON.stringify(value)} for --${name}: it is a boolean switch`, fix: `write --${name} alone (or --${name}=false)` });
    }
    if (flag.values && value !== undefined && !PLACEHOLDER.test(value) && !flag.values.includes(value)) {
      out.push({ index: i, message: `invalid value ${JSON.stringify(value)} for --${name}`, fix: `use one of: ${flag.values.join(', ')}` });
    }
  }
  return out;
}
