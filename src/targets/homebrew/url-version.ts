// The version Homebrew scans from a formula's url when the formula has no `version` line: the formula's
// keg directory and `version.to_s` in its test come from it. Ported from Homebrew/brew
// Library/Homebrew/version.rb (VERSION_PARSERS, Version.parse), version/parser.rb (UrlParser: the whole
// url; StemParser: the basename without extension) and extend/pathname.rb (Pathname#extname, #stem), at
// tag 4.3.0 and at tag 6.0.14 (commit bae7b0408a "Fix GitHub release version detection", which added the
// GitHub-releases rule; unchanged up to 6.0.18). The first rule whose first capture is non-empty wins.
// Ruby's `\d{,2}` is written `\d{0,2}` and `(?i:...)` as explicit alternatives (JS has neither).

type Rule = { on: 'url' | 'stem'; re: RegExp; map?: (s: string) => string };

const NUM_OPT = String.raw`(?:\d+(?:\.\d+)*)`; // NUMERIC_WITH_OPTIONAL_DOTS
const NUM_DOTS = String.raw`(?:\d+(?:\.\d+)+)`; // NUMERIC_WITH_DOTS
const MINOR_OR_PATCH = String.raw`(?:\d+(?:\.\d+){1,2})`;
const CONTENT_SUFFIX = String.raw`(?:[._-](?:[bB][iI][nN]|[dD][iI][sS][tT]|[sS][tT][aA][bB][lL][eE]|[sS][rR][cC]|[sS][oO][uU][rR][cC][eE][sS]?|[fF][iI][nN][aA][lL]|[fF][uU][lL][lL]))`;
const PRERELEASE_SUFFIX = String.raw`(?:[._-]?(?:[aA][lL][pP][hH][aA]|[bB][eE][tT][aA]|[pP][rR][eE]|[rR][cC])\.?\d{0,2})`;

const url = (src: string): Rule => ({ on: 'url', re: new RegExp(src) });
const stem = (src: string, map?: (s: string) => string): Rule => ({ on: 'stem', re: new RegExp(src), map });

/** The GitHub-releases rule added in Homebrew 6.0.14, third in the list. */
const GITHUB_RELEASES = url(String.raw`github\.com\/.+\/releases\/download\/(?:[rvV]_?)?(${NUM_DOTS})\/`);

function rules(githubReleases: boolean, origDots: string): Rule[] {
  return [
    stem(String.raw`(?:^|[._-]?)v?(\d{4}-\d{2}-\d{2})`),
    url(String.raw`github\.com\/.+\/(?:zip|tar)ball\/(?:v|\w+-)?((?:\d+[._-])+\d*)$`),
    ...(githubReleases ? [GITHUB_RELEASES] : []),
    url(String.raw`[_-]([Rr]\d+[AaBb]\d*(?:-\d+)?)`),
    stem(String.raw`((?:\d+_)+\d+)$`, (s) => s.replaceAll('_', '.')),
    stem(String.raw`[_-](${NUM_DOTS}-(?:p|P|rc|RC)?\d+)${CONTENT_SUFFIX}?$`),
    stem(String.raw`^v?(${NUM_DOTS}(?:-${NUM_OPT})+)`),
    url(String.raw`[-v](${NUM_OPT})$`),
    stem(String.raw`-(\d+-\d+)`),
    stem(String.raw`-(${NUM_OPT})$`),
    stem(String.raw`-(${NUM_OPT}(.post\d+)?)$`),
    stem(String.raw`-(${NUM_OPT}(?:[abc]|rc|RC)\d*)$`),
    stem(String.raw`-(${NUM_OPT}-(?:alpha|beta|rc)\d*)$`),
    stem(String.raw`-(${MINOR_OR_PATCH})-w(?:in)?(?:32|64)$`),
    stem(String.raw`\.(${MINOR_OR_PATCH})\+opam$`),
    stem(String.raw`[_-](${MINOR_OR_PATCH}(?:-\d+)?)[._-](?:i[36]86|x86|x64(?:[_-](?:32|64))?)$`),
    stem(String.raw`[-.vV]?(${NUM_DOTS}${PRERELEASE_SUFFIX})`),
    stem(String.raw`(${NUM_OPT})$`),
    stem(String.raw`[-vV](${NUM_DOTS}[abc]?)${CONTENT_SUFFIX}$`),
    stem(String.raw`-(${NUM_DOTS})-`),
    stem(String.raw`_(${origDots}[abc]?)\.orig$`),
    stem(String.raw`-v?(\d[^-]+)`),
    stem(String.raw`_v?(\d[^_]+)`),
    url(String.raw`\/(?:[rvV]_?)?(\d+\.\d+(?:\.\d+){0,2})`),
    stem(String.raw`\.v(\d+[a-z]?)`),
    url(String.raw`[-.vV]?(${NUM_DOTS}${PRERELEASE_SUFFIX}?)`),
  ];
}

/** The Homebrew releases whose url version rules differ in a way that matters here. */
export const HOMEBREW_VERSION_RULES = {
  /** Homebrew before 6.0.14 (the 4.3.0 the tests run is one). */
  'before-6.0.14': rules(false, NUM_DOTS),
  /** Homebrew 6.0.14 and later. */
  '6.0.14': rules(true, NUM_OPT),
} as const;
export type HomebrewRules = keyof typeof HOMEBREW_VERSION_RULES;

/** Pathname#extname of Homebrew: archive double extensions, and no extension after a version number. */
function extname(basename: string): string {
  const archive = /(\.(tar|cpio|pax)\.(gz|bz2|lz|xz|zst|Z))$/.exec(basename);
  if (archive) return archive[1]!;
  if (/\b\d+\.\d+[^.]*$/.test(basename) && !basename.endsWith('.7z')) return '';
  const dot = basename.lastIndexOf('.');
  return dot > 0 ? basename.slice(dot) : '';
}

/** The version Homebrew scans from `url` under the given rules, or null when none matches. */
export function scanUrlVersion(rawUrl: string, which: HomebrewRules): string | null {
  let spec = rawUrl;
  try {
    spec = decodeURIComponent(rawUrl);
  } catch {
    // Homebrew's unescape leaves a malformed escape as it is
  }
  const basename = spec.replace(/\/+$/, '').split('/').pop() ?? '';
  // StemParser: a url ending in a dot and no letters (a version) has no extension to strip
  const stemOf = /\.[^a-zA-Z]+$/.test(spec) ? basename : basename.slice(0, basename.length - extname(basename).length);
  for (const rule of HOMEBREW_VERSION_RULES[which]) {
    const captured = rule.re.exec(rule.on === 'url' ? spec : stemOf)?.[1];
    if (captured) return rule.map ? rule.map(captured) : captured;
  }
  return null;
}
