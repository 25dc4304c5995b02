// Quoting for the formats our templates emit. Awkward mappings are code, not template logic.

/** A Ruby double-quoted string literal. */
export function rubyString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/#\{/g, '\\#{') + '"';
}

/** One systemd ExecStart= word: quoted only when needed; "%" escaped as "%%" unless it is a specifier we intend. */
export function systemdWord(s: string, keepSpecifiers = false): string {
  let v = keepSpecifiers ? s : s.replace(/%/g, '%%');
  v = v.replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** A systemd Environment= assignment, quoted as one word. */
export function systemdEnv(name: string, value: string): string {
  const v = `${name}=${value}`.replace(/%/g, '%%');
  return /^[A-Za-z0-9_=:,./@+-]+$/.test(v) ? v : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** POSIX sh single-quoted word. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** CamelCase class name Homebrew derives from a formula file name (stigmer-server -> StigmerServer). */
export function homebrewClassName(formula: string): string {
  return formula
    .split(/[-_.]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}
