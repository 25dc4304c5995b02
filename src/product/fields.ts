// What each definition field may hold, by the job it does. A value reaches root maintainer scripts, rpm
// scriptlets, systemd units, install.sh, Homebrew formulae, WiX and plists: names and paths get a character set
// that is safe as a file name, a shell word, a unit key and a package field; free text (descriptions, env values,
// arguments) may hold any printable character and is quoted for each format where it is inserted.
import * as z from 'zod';

/**
 * Characters no field may hold: C0/C1 controls (NUL, CR, tab, escape ...), the Unicode line and paragraph
 * separators (U+2028, U+2029: line breaks to JavaScript, YAML and editors), lone surrogates and the
 * bidirectional overrides that make text display differently from what it is ("trojan source").
 */
export const FORBIDDEN_CHAR = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u202A-\u202E\u2066-\u2069\uFEFF]/u;

/** Names a forbidden character for a message: "U+000A (line feed)". */
export function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  const names: Record<number, string> = { 0: 'NUL', 9: 'tab', 10: 'line feed', 13: 'carriage return', 0x1b: 'escape', 0x7f: 'DEL', 0x2028: 'line separator', 0x2029: 'paragraph separator', 0xfeff: 'byte order mark' };
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return names[code] ? `${hex} (${names[code]})` : hex;
}

/** Definition paths (dotted, arrays as []) whose value is multi-line by nature: a newline is allowed there. */
export const MULTILINE_FIELDS = new Set(['product.description']);

/** A string field with a pattern and a message that says what is allowed and why. */
const pattern = (re: RegExp, what: string, why: string) => z.string().regex(re, `must be ${what} (${why})`);

// --- identities the operating system or other packages own -------------------------------------------------

/** System users and groups of Debian, Fedora and macOS base systems and common daemons: never the product's. */
export const RESERVED_ACCOUNTS = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'adm', 'tty', 'disk', 'kmem', 'dialout', 'fax', 'voice',
  'cdrom', 'floppy', 'tape', 'sudo', 'audio', 'dip', 'operator', 'src', 'shadow', 'utmp', 'video', 'sasl',
  'plugdev', 'staff', 'users', 'input', 'kvm', 'render', 'sgx', 'netdev', 'crontab', 'messagebus', 'polkitd',
  'sshd', 'syslog', 'uuidd', 'tcpdump', 'tss', 'landscape', 'lxd', 'docker', 'wheel', 'admin', 'halt',
  'shutdown', 'ftp', 'dbus', 'rpc', 'rpcuser', 'nfsnobody', 'chrony', 'ntp', 'postfix', 'postdrop', 'mysql',
  'postgres', 'redis', 'nginx', 'apache', 'avahi', 'colord', 'geoclue', 'pulse', 'rtkit', 'saned', 'usbmux',
  'dnsmasq', 'statd', 'sssd', 'unbound', 'clock', 'lock', 'mlocate', 'ssh', 'ssl-cert', 'systemd', 'debian',
  'ubuntu', 'daemon', 'man', 'mail', 'console', 'everyone', 'staff', 'localaccounts', 'wheel', 'admin',
]);
/** Prefixes of accounts that systemd, apt and macOS create. */
const RESERVED_ACCOUNT_PREFIXES = ['systemd-', '_'];

export function reservedAccount(name: string): boolean {
  return RESERVED_ACCOUNTS.has(name) || RESERVED_ACCOUNT_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * Directory names below /var/lib, /var/log, /run and /etc that belong to the OS or to other packages. Purge removes
 * the product's state, log and config directories: these names would delete someone else's data.
 */
export const RESERVED_DIR_NAMES = new Set([
  'apt', 'dpkg', 'systemd', 'lib', 'log', 'logs', 'cache', 'tmp', 'misc', 'ucf', 'polkit-1', 'dbus', 'dbus-1',
  'sudo', 'private', 'journal', 'installer', 'pam', 'pam.d', 'security', 'ssh', 'ssl', 'default', 'init.d',
  'rc.d', 'cron.d', 'cron.daily', 'cron.hourly', 'cron.weekly', 'cron.monthly', 'profile.d', 'sudoers.d',
  'logrotate.d', 'sysctl.d', 'modprobe.d', 'ld.so.conf.d', 'alternatives', 'skel', 'opt', 'xdg', 'udev',
  'network', 'networkmanager', 'netplan', 'ufw', 'iptables', 'selinux', 'yum', 'yum.repos.d', 'dnf', 'rpm',
  'pki', 'sysconfig', 'x11', 'fonts', 'ca-certificates', 'kernel', 'grub', 'grub.d', 'initramfs-tools',
  'docker', 'containerd', 'nginx', 'apache2', 'mysql', 'postgresql', 'redis', 'nfs', 'samba', 'cups', 'ldap',
  'sasl2', 'emacs', 'vim', 'python3', 'perl', 'ruby', 'php', 'java', 'node', 'npm', 'snap', 'snapd', 'flatpak',
  'lxc', 'lxd', 'libvirt', 'polkit', 'avahi', 'machines', 'portables', 'swcatalog', 'aptitude', 'debconf',
  'ucf', 'update-notifier', 'usb', 'bin', 'sbin', 'usr', 'var', 'etc', 'run', 'home', 'root', 'boot', 'dev',
  'proc', 'sys', 'mnt', 'media', 'srv', 'local', 'share', 'include', 'src', 'nobody', 'root',
]);

export const reservedDirName = (name: string) => RESERVED_DIR_NAMES.has(name.toLowerCase()) || name.startsWith('systemd');

/** Variables the dynamic loader or the launcher's shell reads to run code: a service default must not set them. */
export function dangerousEnvName(name: string): boolean {
  return /^(LD_|DYLD_)/.test(name) || ['BASH_ENV', 'ENV', 'IFS', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'CDPATH'].includes(name);
}

// --- character sets ----------------------------------------------------------------------------------------

const WHY_NAME = 'it names packages, units, files and shell words';
export const componentName = pattern(/^[a-z][a-z0-9-]{0,62}[a-z0-9]$/, 'lower-case letters, digits and "-", 2 to 64 characters, starting with a letter (e.g. "stigmer-server")', WHY_NAME);
export const envName = pattern(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'a valid environment variable name: letters, digits, "_", not starting with a digit', 'systemd, launchd, the Windows service host and sh all read it as a name');
export const portName = pattern(/^[a-z][a-z0-9-]{0,31}$/, 'a lower-case name like "http"', 'it is a placeholder name in {port:NAME}');
export const accountName = pattern(/^[a-z_][a-z0-9_-]{0,30}$/, 'a system account name: lower-case letters, digits, "_", "-", at most 31 characters, starting with a letter', 'useradd, sysusers.d and the units take it as a name');

/** A display name: a Windows folder under %ProgramData%, service display names, the user's comment, install.sh messages. */
export const displayName = pattern(
  /^[A-Za-z0-9](?:[A-Za-z0-9 ._+-]{0,62}[A-Za-z0-9+])?$/,
  'letters, digits, spaces, ".", "_", "+" and "-", 2 to 64 characters, starting and ending with a letter or digit',
  'it names a Windows folder and services, the system account\'s comment and appears in install scripts',
).min(2, 'must be at least 2 characters (winget PackageName)');

/** Publisher / copyright holder: words of letters and digits with light punctuation. */
export const vendor = z
  .string()
  .regex(/^[\p{L}\p{N}](?:[\p{L}\p{N} .,&()+_-]{0,254}[\p{L}\p{N}.)])?$/u, 'must be letters, digits, spaces and . , & ( ) + _ - (it is the MSI Manufacturer, winget Publisher and copyright holder)')
  .min(2, 'must be at least 2 characters (winget Publisher)');

export const maintainer = pattern(
  /^[\p{L}\p{N}][\p{L}\p{N} .'()-]{0,100} <[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+>$/u,
  '"Name <email@example.com>": a name of letters, digits, spaces and . \' ( ) -, and a plain address',
  'it is the deb Maintainer, rpm Packager and copyright contact field',
);

/** An https URL with a host and a plain path: it goes into package fields, formulae and manifests as is. */
export const httpsUrl = pattern(
  /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/+-]*)?$/,
  'an https URL with a host name and a plain path (letters, digits, ".", "_", "~", "/", "+", "-"; no query or user info)',
  'it is written into package metadata, formulae and manifests',
);

/** An RFC 3161 time-stamping service: http or https (most are plain http; the answer is signed). */
export const timestampUrl = pattern(
  /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/+-]*)?$/,
  'an http(s) URL with a host name and a plain path (no query or user info)',
  'osslsigncode asks it for the time-stamp countersignature',
);

export const githubOwner = pattern(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, 'a GitHub user or organisation name (letters, digits, single "-")', 'it builds API URLs and repository names');
export const githubRepo = pattern(/^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/, 'a GitHub repository name (letters, digits, ".", "_", "-")', 'it builds API URLs and download URLs');
export const githubSlug = pattern(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/, '"owner/repo" with GitHub\'s name characters', 'it builds API URLs');
export const homebrewTap = pattern(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/homebrew-[A-Za-z0-9._-]{1,90}$/, '"owner/homebrew-name" with GitHub\'s name characters', 'brew tap and the formula URLs use it');

export const upstreamVersion = pattern(/^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$/, 'a version like "1.28.0": letters, digits, ".", "_", "+", "~", "-"', 'it is part of file names and messages');

export const launchdPrefix = pattern(/^[a-z0-9]+(\.[a-z0-9-]+)+$/, 'reverse-DNS like "ai.stigmer"', 'it prefixes launchd labels and plist file names');
export const wingetId = pattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}(\.[A-Za-z0-9][A-Za-z0-9_-]{0,31}){1,7}$/, 'Publisher.Name like "Stigmer.Stigmer": 2 to 8 dot-separated parts of letters, digits, "_", "-"', 'it names the winget folder and files');

/** One path segment that is safe as a file name in every package format (rpm %files takes it unquoted). */
const SEGMENT = /^(?!\.{1,2}$)[A-Za-z0-9._+@-]+$/;
export const isSafeSegment = (s: string) => SEGMENT.test(s) && !s.startsWith('-');
const SEGMENT_WHY = 'letters, digits, ".", "_", "+", "@", "-" per segment, no "." or ".." segments, no "-" at the start';

/** An absolute path whose segments are safe file names. */
export const absolutePath = z
  .string()
  .refine((p) => p.startsWith('/') && p.length > 1 && !p.endsWith('/'), 'must be an absolute path like /etc/NAME (no trailing "/")')
  .refine((p) => !p.startsWith('/') || p.slice(1).split('/').every(isSafeSegment), `must use ${SEGMENT_WHY} (the path is written into rpm %files, scripts and units unquoted)`);

/** A path relative to a root (the install prefix, the definition's folder, an archive): it cannot escape it. */
export const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p), 'must be relative (no leading "/" or drive letter)')
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'escapes its root: remove ".." segments')
  .refine((p) => p.split('/').every(isSafeSegment), `must use ${SEGMENT_WHY} (it becomes a file name in every package)`);

/** A release asset name pattern: no "/", no "..", placeholders among those given. */
export function assetPattern(placeholders: string[], required: string[], extra = '') {
  return z
    .string()
    .regex(new RegExp(`^[A-Za-z0-9._+{}${extra}-]+$`), `must use letters, digits, ".", "_", "+", "-"${extra ? `, "${extra.replace(/\\/g, '')}"` : ''} and placeholders only (no "/": it is a file name in the output directory and in SHA256SUMS)`)
    .refine((s) => !s.includes('..') && !/^[.-]/.test(s), 'must not start with "." or "-" or contain ".." (it is a file name)')
    .refine((s) => [...s.matchAll(/\{([^}]*)\}/g)].every((m) => placeholders.includes(m[1]!)) && !/[{}]/.test(s.replace(/\{[^{}]*\}/g, '')), `must use only the placeholders ${placeholders.map((p) => `{${p}}`).join(' ')}`)
    .refine((s) => required.every((r) => r.split('|').some((alt) => s.includes(`{${alt}}`))), `must contain ${required.map((r) => r.split('|').map((a) => `{${a}}`).join(' or ')).join(', ')} so every asset gets its own name`);
}

/**
 * An SPDX license expression: identifiers (letters, digits, ".", "-", optional "+", LicenseRef-...) joined by
 * AND, OR, WITH and parentheses. Checked by a small parser, so "MIT\nRequires: x" or "MIT; rm" is refused.
 */
export function isSpdxExpression(s: string): boolean {
  const tokens = s.match(/\(|\)|[^\s()]+/g);
  if (!tokens || tokens.join('').length !== s.replace(/\s+/g, '').length) return false;
  if (/\s{2,}|^\s|\s$/.test(s)) return false;
  let i = 0;
  const id = /^[A-Za-z0-9][A-Za-z0-9.-]*\+?$/;
  const simple = (): boolean => {
    const t = tokens[i];
    if (t === '(') {
      i++;
      if (!compound()) return false;
      return tokens[i++] === ')';
    }
    if (!t || !id.test(t) || ['AND', 'OR', 'WITH'].includes(t)) return false;
    i++;
    if (tokens[i] === 'WITH') {
      i++;
      const ex = tokens[i++];
      return !!ex && id.test(ex);
    }
    return true;
  };
  const compound = (): boolean => {
    if (!simple()) return false;
    while (tokens[i] === 'AND' || tokens[i] === 'OR') {
      i++;
      if (!simple()) return false;
    }
    return true;
  };
  return compound() && i === tokens.length;
}

export const license = z
  .string()
  .max(512)
  .refine(isSpdxExpression, 'must be an SPDX license expression like "Apache-2.0" or "MIT OR Apache-2.0" (it is the License field of every package)')
  .refine((s) => s.length >= 3, 'must be at least 3 characters (winget License)');

/** Free text: any printable character (control characters are refused for every field before this). */
export const freeText = (min = 1, max = 10000) => z.string().min(min).max(max);
