// launchd and Homebrew services have no EnvironmentFile=. A small POSIX sh launcher (sh, dash, bash) reads the
// env file when it exists with systemd's own EnvironmentFile= rules (see templates/env/env-file.hbs), creates
// TMPDIR when one is set (a frozen payload unpacks there), clears the stale unpack folders of a frozen service, then execs the real binary: the service keeps one
// PID and gets signals directly. Values are never eval'd, so nothing in them is executed.
//
// The parser is systemd's state machine (src/basic/env-file.c: parse_env_file_internal), one byte at a time:
// "#"/";" comment lines, whitespace around names and unquoted values trimmed, '...' literal, "..." with
// backslash escapes of " \ ` $ (any other backslash kept), a backslash outside quotes escaping the next byte
// and a backslash at the end of a line joining the next one, CR ending a line like LF. An assignment whose
// name is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*: "export X", a name after a UTF-8 byte order
// mark) is skipped with a line on stderr, as systemd skips it; a line without "=" is ignored. The parser's own
// variables are named __sdenv_* so that no assignment in the file can disturb it.
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

export const ENV_LAUNCHER_BODY = String.raw`${CLEAR_STALE_UNPACK_DIRS.join('\n')}
__sdenv_f=$1
shift
if [ -r "$__sdenv_f" ]; then
  __sdenv_s=$(cat -- "$__sdenv_f"; echo .)
  __sdenv_s=${'${'}__sdenv_s%.}
  __sdenv_nl='
'
  __sdenv_cr=$(printf '\r')
  __sdenv_tab=$(printf '\t')
  __sdenv_st=pk __sdenv_k='' __sdenv_kw='' __sdenv_v='' __sdenv_vw='' __sdenv_n=1
  __sdenv_set() {
    case $__sdenv_k in
      '' | [0123456789]* | *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_]*)
        printf '%s: %s:%s: ignoring an assignment to "%s": not a valid variable name\n' "$0" "$__sdenv_f" "$__sdenv_n" "$__sdenv_k" >&2 ;;
      *) export "$__sdenv_k=$__sdenv_v" ;;
    esac
    __sdenv_k='' __sdenv_kw='' __sdenv_v='' __sdenv_vw=''
  }
  while [ -n "$__sdenv_s" ]; do
    __sdenv_r=${'${'}__sdenv_s#?}
    __sdenv_c=${'${'}__sdenv_s%"$__sdenv_r"}
    __sdenv_s=$__sdenv_r
    case $__sdenv_st in
      pk) case $__sdenv_c in
          '#' | ';') __sdenv_st=cm ;;
          ' ' | "$__sdenv_tab" | "$__sdenv_nl" | "$__sdenv_cr") ;;
          *) __sdenv_st=k __sdenv_k=$__sdenv_c __sdenv_kw='' ;;
        esac ;;
      k) case $__sdenv_c in
          "$__sdenv_nl" | "$__sdenv_cr") __sdenv_st=pk __sdenv_k='' __sdenv_kw='' ;;
          =) __sdenv_st=pv __sdenv_v='' __sdenv_vw='' ;;
          ' ' | "$__sdenv_tab") __sdenv_kw=$__sdenv_kw$__sdenv_c ;;
          *) __sdenv_k=$__sdenv_k$__sdenv_kw$__sdenv_c __sdenv_kw='' ;;
        esac ;;
      pv) case $__sdenv_c in
          "$__sdenv_nl" | "$__sdenv_cr") __sdenv_set; __sdenv_st=pk ;;
          "'") __sdenv_st=sq ;;
          '"') __sdenv_st=dq ;;
          "\\") __sdenv_st=ve ;;
          ' ' | "$__sdenv_tab") ;;
          *) __sdenv_st=v __sdenv_v=$__sdenv_v$__sdenv_c ;;
        esac ;;
      v) case $__sdenv_c in
          "$__sdenv_nl" | "$__sdenv_cr") __sdenv_set; __sdenv_st=pk ;;
          "\\") __sdenv_st=ve __sdenv_v=$__sdenv_v$__sdenv_vw __sdenv_vw='' ;;
          ' ' | "$__sdenv_tab") __sdenv_vw=$__sdenv_vw$__sdenv_c ;;
          *) __sdenv_v=$__sdenv_v$__sdenv_vw$__sdenv_c __sdenv_vw='' ;;
        esac ;;
      ve) __sdenv_st=v
        case $__sdenv_c in
          "$__sdenv_nl" | "$__sdenv_cr") ;;
          *) __sdenv_v=$__sdenv_v$__sdenv_c ;;
        esac ;;
      sq) case $__sdenv_c in
          "'") __sdenv_st=pv ;;
          *) __sdenv_v=$__sdenv_v$__sdenv_c ;;
        esac ;;
      dq) case $__sdenv_c in
          '"') __sdenv_st=pv ;;
          "\\") __sdenv_st=dqe ;;
          *) __sdenv_v=$__sdenv_v$__sdenv_c ;;
        esac ;;
      dqe) __sdenv_st=dq
        case $__sdenv_c in
          '"' | "\\" | '${'`'}' | '$') __sdenv_v=$__sdenv_v$__sdenv_c ;;
          "$__sdenv_nl") ;;
          *) __sdenv_v=$__sdenv_v"\\$__sdenv_c" ;;
        esac ;;
      cm) case $__sdenv_c in
          "$__sdenv_nl" | "$__sdenv_cr") __sdenv_st=pk ;;
        esac ;;
    esac
    if [ "$__sdenv_c" = "$__sdenv_nl" ]; then __sdenv_n=$((__sdenv_n + 1)); fi
  done
  case $__sdenv_st in pv | v | ve | sq | dq | dqe) __sdenv_set ;; esac
  unset -f __sdenv_set
  unset __sdenv_s __sdenv_r __sdenv_c __sdenv_st __sdenv_k __sdenv_kw __sdenv_v __sdenv_vw __sdenv_n __sdenv_nl __sdenv_cr __sdenv_tab
fi
unset __sdenv_f
if [ -n "${'${'}TMPDIR:-}" ]; then mkdir -p "$TMPDIR"; fi
exec "$@"`;

/** The launcher as a standalone script file (Homebrew installs it into libexec). */
export const ENV_LAUNCHER_SCRIPT = `#!/bin/sh\n# Usage: <launcher> ENV_FILE COMMAND [ARG...]\n# Exports the variables ENV_FILE sets (if readable), read with systemd's EnvironmentFile= rules, then execs COMMAND.\nset -eu\n${ENV_LAUNCHER_BODY}\n`;

/** argv that runs `command` through the launcher inline: /bin/sh -c BODY NAME ENVFILE COMMAND... */
export function launcherArgv<T>(name: string, envFile: T, command: T[]): (string | T)[] {
  return ['/bin/sh', '-c', ENV_LAUNCHER_BODY, name, envFile, ...command];
}
