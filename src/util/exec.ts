// execa, loaded on the first command run rather than at import (~65 ms): `plan` and `render` import every
// target module and never run a command. Awaitable result only; code that needs the subprocess object
// (streams, duplex) imports execa itself.
import type { Options, Result } from 'execa';
import { assertNotInterrupted } from './cleanup.ts';
import { spawnSync } from 'node:child_process';

export async function execa<O extends Options = Options>(file: string, args: readonly string[], options?: O): Promise<Result<O>> {
  assertNotInterrupted(file);
  const { execa: run } = await import('execa'); // Node caches the module after the first import
  // What execa resolves to is Result<O>; TypeScript cannot see through its generic ResultPromise here.
  return (await run(file, args, options)) as unknown as Result<O>;
}

/** Whether `command` is on PATH (as the shell finds it). */
export function hasTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
