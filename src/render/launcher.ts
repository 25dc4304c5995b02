// launchd and Homebrew services have no EnvironmentFile=. A tiny POSIX sh launcher reads the env file when it
// exists (KEY=value lines, never eval'd, so values are not executed), creates TMPDIR when one is set (a frozen
// payload unpacks there), then execs the real binary: the service keeps one PID and gets signals directly.
/** Set by the plist / formula only for a frozen service: its own TMPDIR, cleared of stale unpack folders. */
export const FROZEN_TMPDIR_VAR = 'FROZEN_TMPDIR';

/**
 * A PyInstaller one-file program unpacks into TMPDIR/_MEIxxxxxx at every start and removes the folder only when
 * it exits normally: after a kill (launchd's SIGKILL at the stop timeout, a crash) it stays, and folders pile up.
 * Before the program starts, the launcher removes the _MEI* folders in the service's own TMPDIR, which no other
 * process uses (launchd/Homebrew run one instance of the service, and this runs before it starts).
 */
export const CLEAR_STALE_UNPACK_DIRS = [
  `if [ -n "\${${FROZEN_TMPDIR_VAR}:-}" ]; then`,
  `  mkdir -p "$${FROZEN_TMPDIR_VAR}"`,
  `  rm -rf "$${FROZEN_TMPDIR_VAR}"/_MEI*`,
  `  unset ${FROZEN_TMPDIR_VAR}`,
  'fi',
];

export const ENV_LAUNCHER_BODY = [
  ...CLEAR_STALE_UNPACK_DIRS,
  'f=$1',
  'shift',
  'if [ -r "$f" ]; then',
  '  while IFS= read -r l || [ -n "$l" ]; do',
  '    case $l in',
  '      "" | "#"*) ;;',
  '      *=*) export "${l%%=*}=${l#*=}" ;;',
  '    esac',
  '  done <"$f"',
  'fi',
  'if [ -n "${TMPDIR:-}" ]; then mkdir -p "$TMPDIR"; fi',
  'exec "$@"',
].join('\n');

/** The launcher as a standalone script file (Homebrew installs it into libexec). */
export const ENV_LAUNCHER_SCRIPT = `#!/bin/sh\n# Usage: <launcher> ENV_FILE COMMAND [ARG...]\n# Exports KEY=value lines of ENV_FILE (if readable), then execs COMMAND.\nset -eu\n${ENV_LAUNCHER_BODY}\n`;

/** argv that runs `command` through the launcher inline: /bin/sh -c BODY NAME ENVFILE COMMAND... */
export function launcherArgv<T>(name: string, envFile: T, command: T[]): (string | T)[] {
  return ['/bin/sh', '-c', ENV_LAUNCHER_BODY, name, envFile, ...command];
}
