// The text inside a .deb besides the payload: the control file (deb822, serialised here, not templated),
// the maintainer scripts, conffiles and md5sums, and the files Debian policy wants in /usr/share/doc and
// lintian's overrides (rendered from templates/deb/).
import { EXIT, UserError } from '../../errors.ts';
import type { Product } from '../../product/model.ts';
import { generatedNotice, renderTemplate } from '../../render/templates.ts';
import { deb822Value } from '../../render/quote.ts';
import { definitionName } from '../../render/envfile.ts';
import { longDescription, wrap } from '../linux/description.ts';
import type { PackageFile } from '../linux/layout.ts';
import { scriptView } from '../linux/scripts.ts';
import { COMMON_LICENSES, EMBEDDED_LICENSES } from '../../product/licenses.ts';

/** deb-version(7): [epoch:]upstream[-revision]; upstream starts with a digit. */
export function checkDebianVersion(version: string, source: string): void {
  const rest = version.replace(/^\d+:/, '');
  const cut = rest.lastIndexOf('-');
  const upstream = cut >= 0 ? rest.slice(0, cut) : rest;
  const revision = cut >= 0 ? rest.slice(cut + 1) : undefined;
  // A "-" in upstream is allowed only with a revision, which the split at the last "-" guarantees.
  if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(upstream) || (revision !== undefined && !/^[A-Za-z0-9+.~]+$/.test(revision))) {
    throw new UserError(`${source}: "${version}" is not a valid Debian version`, {
      hint: 'Debian versions are [epoch:]upstream[-revision]: upstream starts with a digit and uses letters, digits, ".", "+", "~" (a pre-release is written 1.2.3~rc.1)',
      exitCode: EXIT.usage,
    });
  }
}

/** One deb822 paragraph. Multi-line values continue on lines starting with a space; empty lines become " .". */
export function formatDeb822(fields: [string, string][]): string {
  return (
    fields
      .map(([name, value]) => `${name}: ${deb822Value(value)}`)
      .join('\n') + '\n'
  );
}


export interface ControlInput {
  product: Product;
  version: string;
  arch: string;
  installedSizeKiB: number;
  depends: string[];
}

export function renderControl({ product, version, arch, installedSizeKiB, depends }: ControlInput): string {
  const fields: [string, string][] = [
    ['Package', product.meta.name],
    ['Version', version],
    ['Architecture', arch],
    ['Maintainer', product.meta.maintainer],
    ['Installed-Size', String(installedSizeKiB)],
  ];
  if (depends.length) fields.push(['Depends', depends.join(', ')]);
  fields.push(
    ['Section', product.def.linux.deb.section],
    ['Priority', 'optional'],
    ['Homepage', product.meta.homepage],
    ['Description', `${product.meta.summary}\n${longDescription(product)}`],
  );
  return formatDeb822(fields);
}

/** dpkg-gencontrol's estimate: every file rounded up to whole KiB, every directory (the root too) 1 KiB. */
export function installedSizeKiB(fileSizes: number[], dirCount: number): number {
  return fileSizes.reduce((n, size) => n + Math.ceil(size / 1024), 0) + dirCount;
}

export function renderMaintainerScripts(product: Product): { postinst: string; prerm: string; postrm: string } {
  const view = scriptView(product);
  return {
    postinst: renderTemplate('deb/postinst.hbs', view),
    prerm: renderTemplate('deb/prerm.hbs', view),
    postrm: renderTemplate('deb/postrm.hbs', view),
  };
}

/** /usr/share/doc/<pkg>/copyright in the machine-readable format (DEP-5). */
export function renderCopyright(product: Product, year: number, licenseTexts: string[]): string {
  const spdx = product.meta.license;
  const common = COMMON_LICENSES[spdx];
  const embedded = EMBEDDED_LICENSES[spdx];
  let license: string;
  let text: string[];
  if (common) {
    license = common.name;
    text = wrap(`On Debian systems, the complete text of ${common.title} can be found in "/usr/share/common-licenses/${common.file}".`, 78);
  } else if (licenseTexts.length) {
    // The license text the definition packages is authoritative.
    license = embedded?.name ?? spdx;
    text = licenseTexts
      .join('\n\n')
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((l) => l.trimEnd());
    while (text.length && text[text.length - 1] === '') text.pop();
    while (text.length && text[0] === '') text.shift();
  } else if (embedded) {
    license = embedded.name;
    text = embedded.paragraphs.flatMap((p, i) => [...(i ? [''] : []), ...wrap(p, 78)]);
  } else {
    throw new UserError(`${definitionName(product)}: product.license ${spdx} has no text in Debian's /usr/share/common-licenses, and no license file is packaged`, {
      hint: `add the license text to files (e.g. { src: LICENSE, dest: share/doc/${product.meta.name}/LICENSE }): the deb's copyright file embeds it`,
      exitCode: EXIT.config,
    });
  }
  return renderTemplate('deb/copyright.hbs', {
    upstreamName: product.meta.displayName,
    contact: product.meta.maintainer,
    source: product.meta.homepage,
    notice: generatedNotice(definitionName(product)),
    year,
    holder: product.meta.vendor,
    license,
    licenseText: text.map((l) => (l === '' ? '.' : l)),
  });
}

/** RFC 2822 date in UTC, as dpkg-parsechangelog wants it. */
export function rfc2822(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${p(d.getUTCDate())} ${month} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The Debian changelog (one entry for this build; the project's release notes live on the release page). */
export function renderChangelog(product: Product, version: string, semver: string, epoch: number): string {
  return renderTemplate('deb/changelog.hbs', {
    pkg: product.meta.name,
    version,
    distribution: 'stable',
    entry: `${product.meta.displayName} ${semver}, packaged by stigmer-dist from ${definitionName(product)}.`,
    maintainer: product.meta.maintainer,
    date: rfc2822(epoch),
  });
}

export interface LintianOverride {
  tag: string;
  context: string | null;
  reason: string;
}

/**
 * What lintian reports for prebuilt release binaries that is expected, each with its reason. Everything else
 * lintian finds is fixed in the package instead.
 */
export function lintianOverrides(product: Product, files: PackageFile[]): LintianOverride[] {
  const out: LintianOverride[] = [];
  for (const f of files.filter((x) => x.role === 'binary')) {
    const rel = f.path.slice(1);
    const frozen = product.components.find((c) => c.name === f.component)?.frozen;
    if (!f.binary?.elf?.dynamic) {
      out.push({ tag: 'statically-linked-binary', context: rel, reason: `${f.component} is a prebuilt, statically linked release binary (Go), shipped byte-identical.` });
    }
    if (f.binary?.elf?.symbols) {
      out.push({
        tag: 'unstripped-binary-or-object',
        context: rel,
        reason: frozen
          ? `${f.component} is a frozen (PyInstaller) payload: stripping it breaks it, so it is never stripped.`
          : `${f.component} is a prebuilt release binary, shipped byte-identical (never stripped).`,
      });
    }
    out.push({ tag: 'no-manual-page', context: rel, reason: `${f.component} is a prebuilt binary without a manual page; \`${f.path.slice(f.path.lastIndexOf('/') + 1)} --help\` documents it.` });
  }
  const env = files.find((f) => f.role === 'env-file');
  if (env) {
    out.push({ tag: 'non-standard-file-perm 0640 != 0644', context: env.path.slice(1), reason: 'the env file holds secrets: root and the services\' group (set in postinst) may read it, nobody else.' });
  }
  for (const f of files.filter((x) => x.role === 'unit' && x.path.endsWith('.service'))) {
    const rel = f.path.slice(1);
    out.push({ tag: 'systemd-service-file-missing-install-key', context: rel, reason: `started by ${product.meta.name}.target (the unit the package enables), so it has no [Install] section of its own.` });
    out.push({ tag: 'package-supports-alternative-init-but-no-init.d-script', context: rel, reason: 'systemd only: the services rely on systemd\'s sandboxing and state directories; there is no init.d script.' });
  }
  out.push({
    tag: 'initial-upload-closes-no-bugs',
    context: `usr/share/doc/${product.meta.name}/changelog.Debian.gz:1`,
    reason: 'a vendor package distributed outside the Debian archive: there is no ITP bug to close.',
  });
  return out;
}

export function renderLintianOverrides(product: Product, overrides: LintianOverride[]): string {
  return renderTemplate('deb/lintian-overrides.hbs', { notice: generatedNotice(definitionName(product)), pkg: product.meta.name, overrides });
}
