// Building the MSI with msitools on Linux: wixl compiles the WiX source, msibuild adds the tables wixl 0.101
// cannot express, then the summary information is pinned so identical inputs give identical bytes.
//
// wixl 0.101 traps handled here: it only warns (exit 0) on attributes it does not know, so any stderr output
// fails the build; it writes a random PackageCode and the wall-clock time into the summary information,
// which are replaced in place (same lengths) by a name-based PackageCode and SOURCE_DATE_EPOCH; the embedded
// cabinet stores each file's mtime, so the staged sources get SOURCE_DATE_EPOCH and TZ=UTC.
import { execa } from '../../util/exec.ts';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { UserError } from '../../errors.ts';
import type { MsiModel } from './model.ts';

const MSI_TOOL_HINT = 'msitools 0.101 or newer (Debian/Ubuntu: apt-get install wixl msitools)';

async function runTool(command: string, args: string[], cwd: string, what: string): Promise<void> {
  const r = await execa(command, args, { cwd, env: { TZ: 'UTC', LC_ALL: 'C' }, reject: false, all: true, stdin: 'ignore' });
  const output = (r.all ?? '').trim();
  if (r.exitCode !== 0 || output) {
    throw new UserError(`${what} failed${r.exitCode !== 0 ? ` (exit ${r.exitCode})` : ' (it printed warnings, which wixl uses for unsupported WiX)'}:\n${output || '(no output)'}`, {
      hint: `the generated WiX source must stay inside what ${MSI_TOOL_HINT} supports; run \`${command} --version\` and check templates/msi/`,
    });
  }
}

export async function wixl(wxs: string, out: string, cwd: string): Promise<void> {
  await runTool('wixl', ['-a', 'x64', '-D', 'Toolset=wixl', '-o', out, wxs], cwd, 'wixl');
}

/** Tables wixl 0.101 cannot author, as msibuild SQL: the same rows the Toolset=wix blocks of the source produce. */
export function postProcessSql(model: MsiModel): string[] {
  const q = (s: string) => {
    if (/['\n\r\t]/.test(s)) throw new Error(`internal: ${JSON.stringify(s)} cannot be quoted for msibuild`);
    return `'${s}'`;
  };
  const sql: string[] = [];
  const sequence: [string, number][] = [];
  const never = model.components.filter((c) => c.neverOverwrite);
  // msidbComponentAttributes64bit (256) | msidbComponentAttributesNeverOverwrite (128)
  for (const c of never) sql.push(`UPDATE \`Component\` SET \`Attributes\` = 384 WHERE \`Component\` = ${q(c.id)}`);

  const env = model.components.filter((c) => c.pathEntry);
  if (env.length) {
    sql.push('CREATE TABLE `Environment` (`Environment` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL LOCALIZABLE, `Value` CHAR(255) LOCALIZABLE, `Component_` CHAR(72) NOT NULL PRIMARY KEY `Environment`)');
    // "=" set on install, "-" removed on uninstall, "*" system variable; "[~];" appends to the existing value.
    for (const c of env) sql.push(`INSERT INTO \`Environment\` (\`Environment\`, \`Name\`, \`Value\`, \`Component_\`) VALUES (${q(c.pathEntry!.id)}, '=-*PATH', ${q(`[~];[${c.pathEntry!.directory}]`)}, ${q(c.id)})`);
    sequence.push(['RemoveEnvironmentStrings', 3300], ['WriteEnvironmentStrings', 5200]);
  }

  const locks = model.components.flatMap((c) => c.files.flatMap((f) => f.lockedTo.map((user) => ({ file: f.id, user }))));
  if (locks.length) {
    sql.push('CREATE TABLE `LockPermissions` (`LockObject` CHAR(72) NOT NULL, `Table` CHAR(32) NOT NULL, `Domain` CHAR(255), `User` CHAR(255) NOT NULL, `Permission` LONG PRIMARY KEY `LockObject`, `Table`, `Domain`, `User`)');
    // GENERIC_ALL; the listed accounts replace the inherited ACL.
    for (const l of locks) sql.push(`INSERT INTO \`LockPermissions\` (\`LockObject\`, \`Table\`, \`User\`, \`Permission\`) VALUES (${q(l.file)}, 'File', ${q(l.user)}, 268435456)`);
  }

  const recovery = model.components.flatMap((c) => c.services.filter((s) => s.recovery).map((s) => ({ c, s, r: s.recovery! })));
  if (recovery.length) {
    sql.push(
      'CREATE TABLE `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL LOCALIZABLE, `Event` SHORT NOT NULL, `ResetPeriod` LONG, `RebootMessage` CHAR(255) LOCALIZABLE, `Command` CHAR(255) LOCALIZABLE, `Actions` CHAR(255), `DelayActions` CHAR(255), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfigFailureActions`)',
    );
    // Event 5 = on install (1) and reinstall (4); action 1 = restart the service.
    for (const { c, s, r } of recovery) {
      sql.push(
        `INSERT INTO \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\`, \`Name\`, \`Event\`, \`ResetPeriod\`, \`Actions\`, \`DelayActions\`, \`Component_\`) VALUES (${q(r.id)}, ${q(s.name)}, 5, ${r.resetSeconds}, '1[~]1[~]1', ${q([r.delayMs, r.delayMs, r.delayMs].join('[~]'))}, ${q(c.id)})`,
      );
    }
    sequence.push(['MsiConfigureServices', 5850]);
  }
  for (const [action, seq] of sequence) sql.push(`INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES (${q(action)}, ${seq})`);
  return sql;
}

export async function msibuild(msi: string, sql: string[], cwd: string): Promise<void> {
  if (!sql.length) return;
  await runTool('msibuild', [msi, ...sql.flatMap((s) => ['-q', s])], cwd, 'msibuild (adding the tables wixl cannot author)');
}

async function summaryRevision(msi: string): Promise<string> {
  const r = await execa('msiinfo', ['suminfo', msi], { env: { LC_ALL: 'C' }, reject: false, all: true });
  const m = /^Revision number \(UUID\): (\{[0-9A-F-]{36}\})$/m.exec(r.stdout ?? '');
  if (r.exitCode !== 0 || !m) throw new UserError(`msiinfo suminfo ${msi} failed: ${(r.all ?? '').trim() || `exit ${r.exitCode}`}`, { hint: MSI_TOOL_HINT });
  return m[1]!;
}

const FILETIME_EPOCH_OFFSET = 11644473600n;
const toFileTime = (ms: number) => (BigInt(Math.floor(ms)) + FILETIME_EPOCH_OFFSET * 1000n) * 10000n;

/** Offsets of every match of `test` (a window of `width` bytes), scanning the file as a stream. */
async function scan(file: string, width: number, test: (buf: Buffer, at: number) => boolean): Promise<number[]> {
  const hits: number[] = [];
  let carry = Buffer.alloc(0);
  let base = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = Buffer.concat([carry, chunk as Buffer]);
    for (let i = 0; i + width <= buf.length; i++) if (test(buf, i)) hits.push(base + i);
    const keep = Math.min(width - 1, buf.length);
    base += buf.length - keep;
    carry = buf.subarray(buf.length - keep);
  }
  return hits;
}

/**
 * Replaces wixl's random PackageCode and its build-time FILETIMEs (Created, Last saved) in the summary
 * information stream, in place: the UUID string keeps its length, a FILETIME its 8 bytes.
 */
export async function pinSummary(msi: string, opts: { packageCode: string; epoch: number; builtBetween: [number, number] }): Promise<void> {
  const old = Buffer.from(await summaryRevision(msi), 'latin1');
  const next = Buffer.from(`{${opts.packageCode}}`, 'latin1');
  const uuidHits = await scan(msi, old.length, (b, i) => b[i] === 0x7b && b.subarray(i, i + old.length).equals(old));
  const lo = toFileTime(opts.builtBetween[0] - 2000);
  const hi = toFileTime(opts.builtBetween[1] + 2000);
  // A VT_FILETIME property value: type 64 (as a 4-byte little-endian word), then the 8-byte FILETIME.
  const timeHits = await scan(msi, 12, (b, i) => {
    if (b[i] !== 0x40 || b[i + 1] !== 0 || b[i + 2] !== 0 || b[i + 3] !== 0) return false;
    const t = b.readBigUInt64LE(i + 4);
    return t >= lo && t <= hi;
  });
  if (uuidHits.length !== 1 || timeHits.length < 1 || timeHits.length > 3) {
    throw new UserError(`cannot pin the summary information of ${msi}: found the PackageCode ${uuidHits.length} times and ${timeHits.length} build timestamps`, {
      hint: `this wixl writes its summary information differently from msitools 0.101; report it with \`wixl --version\``,
    });
  }
  const fh = await open(msi, 'r+');
  try {
    await fh.write(next, 0, next.length, uuidHits[0]!);
    const ft = Buffer.alloc(8);
    ft.writeBigUInt64LE(toFileTime(opts.epoch * 1000));
    for (const at of timeHits) await fh.write(ft, 0, 8, at + 4);
  } finally {
    await fh.close();
  }
  const now = await summaryRevision(msi);
  if (now !== next.toString('latin1')) throw new Error(`internal: pinned PackageCode reads back as ${now}`);
}
