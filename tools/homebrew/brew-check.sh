#!/usr/bin/env bash
# brew-check.sh FORMULA_DIR DIST_DIR
#
# Checks a set of Homebrew tap formulae that ship prebuilt binaries with real Homebrew.
# (stigmer-dist's copy of the team's tool, run by test/e2e/homebrew.test.ts. Changes: step 1 reports a
# platform whose `depends_on arch:`/`:macos`/`:linux` Homebrew refuses, with Homebrew's message, instead of
# checking an archive there; an Intel-only macOS url on Apple Silicon passes when the formula's caveats name
# Rosetta.)
# FORMULA_DIR holds the formula files (*.rb, or a tap layout with Formula/*.rb); DIST_DIR holds the
# release archives their URLs point at (matched by the URL's basename).
#
# It runs Homebrew 4.3.0 (the newest tag that runs on Debian 12's Ruby 3.1), unpacked once from the
# tarball beside it into /tmp/brew-check-work/brew430 and copied per run to /tmp/brew-check-work/brew-run, as a
# throwaway non-root user (Homebrew refuses root), fully offline:
#   1. checksums  Formulary.factory under macOS arm64, macOS x86_64, Linux x86_64 and Linux arm64
#                 (if declared) with Homebrew::SimulateSystem (+ Hardware::CPU made simulation-aware,
#                 so `if Hardware::CPU.arm?` resolves as on that machine): the URL must name an archive
#                 in DIST_DIR whose real sha256 equals the formula's; the archive name and the native
#                 binaries inside (ELF/Mach-O headers) must match the platform.
#   2. style      Homebrew's formula cops (Debian rubocop + Library/Homebrew/rubocops.rb, --only
#                 FormulaAudit,FormulaAuditStrict,Lint/Syntax) and `brew audit --strict --formula` on
#                 every OS/arch (--os=all --arch=all, --skip-style: the cops above stand in for `brew
#                 style`, which needs rubocop plugins Debian lacks; bundler gem step stubbed).
#   3. install    URLs of a copy rewritten to file:// paths holding the DIST_DIR archives; `brew install`
#                 of the set's top formulae (dependencies inside the tap are pulled in by brew; its
#                 post-install warnings count as failures), `brew test` of each, and for `service do`
#                 formulae the generated systemd unit and launchd plist are printed and checked
#                 (command is an executable in a keg, systemd-analyze verify, plistutil parses).
#   4. summary    one line per check and a final "brew-check: ..." line; exit 0 only if all passed.
#                 The logs of the last run stay in /tmp/brew-check-work/brew-check-last.
#
# Env: BREW_CHECK_TAP=org/name (tap to install into; default: taken from `depends_on "org/name/x"` lines,
#      else brewcheck/local), BREW_CHECK_START_SERVICES=1 (also start each Linux service command as the
#      throwaway user for a few seconds and require it to stay up or exit 0), BREW_CHECK_KEEP=1 (keep the
#      run directory), BREW_CHECK_MIRROR (a Homebrew/brew git mirror instead of the tarball beside this script),
#      BREW_CHECK_USER (default brewacc).
# Exit: 0 all passed, 1 a check failed, 2 usage or setup error.
set -uo pipefail
shopt -s nullglob

START_TIME=$SECONDS
TOOLS=${BREW_CHECK_WORK:-/tmp/brew-check-work}
BREW_TAG=4.3.0
BREW_PRISTINE=$TOOLS/brew430
RUN=$TOOLS/brew-run
LAST_LOGS=$TOOLS/brew-check-last
# Homebrew 4.3.0 itself: the tarball beside this script (a `git archive` of the tag; BSD-2-Clause, its
# LICENSE.txt inside), else a Homebrew/brew git mirror given in BREW_CHECK_MIRROR.
TARBALL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/homebrew-$BREW_TAG.tar.xz
MIRROR=${BREW_CHECK_MIRROR:-}
ACC=${BREW_CHECK_USER:-brewacc}
ACC_GECOS="brew-check throwaway"

say() { printf '%s\n' "$*"; }
hdr() { printf '\n==== %s\n' "$*"; }
die() { printf 'brew-check: ERROR: %s\n' "$*" >&2; exit 2; }

[[ $# -eq 2 ]] || { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || die "run as root (it creates a throwaway user for Homebrew)"
[[ -d $1 ]] || die "FORMULA_DIR '$1' is not a directory"
[[ -d $2 ]] || die "DIST_DIR '$2' is not a directory"
FORMULA_DIR=$(cd "$1" && pwd) DIST_DIR=$(cd "$2" && pwd)
SRC_FORMULAE=("$FORMULA_DIR"/*.rb)
((${#SRC_FORMULAE[@]})) || SRC_FORMULAE=("$FORMULA_DIR"/Formula/*.rb)
((${#SRC_FORMULAE[@]})) || die "no *.rb formula in $FORMULA_DIR"

# ---------------------------------------------------------------------------------------------- setup
mkdir -p "$TOOLS"
exec 9>"$TOOLS/brew-check.lock"
flock -w 3600 9 || die "another brew-check run holds $TOOLS/brew-check.lock"

for t in git tar runuser useradd userdel ps flock; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done
if ! command -v ruby >/dev/null || ! command -v rubocop >/dev/null; then
  say "installing Debian's ruby and rubocop (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q ruby rubocop >/dev/null || die "apt-get install ruby rubocop failed"
fi
[[ $(ruby -e 'print RUBY_VERSION[/\A\d+\.\d+/]') == 3.1 ]] ||
  die "Homebrew $BREW_TAG needs Ruby 3.1 (Debian 12); found $(ruby -e 'print RUBY_VERSION')"
MINITEST_LIB=$(ruby -e 'print Gem::Specification.find_by_name("minitest").full_gem_path + "/lib"' 2>/dev/null) ||
  MINITEST_LIB=$(printf '%s\n' /usr/lib/ruby/gems/3.1.0/gems/minitest-*/lib | tail -1)
[[ -n $MINITEST_LIB && -d $MINITEST_LIB ]] || die "minitest (Ruby 3.1 bundled gem) not found"

find_gitdir() { # a bare mirror: the dir itself, repo/, or any dir below holding HEAD + objects/
  local d
  for d in "$MIRROR" "$MIRROR/repo" "$MIRROR/.git"; do
    [[ -f $d/HEAD && -d $d/objects ]] && { echo "$d"; return 0; }
  done
  d=$(find "$MIRROR" -maxdepth 3 -name HEAD -type f -printf '%h\n' 2>/dev/null | head -1)
  [[ -n $d && -d $d/objects ]] && { echo "$d"; return 0; }
  return 1
}
if [[ ! -f $BREW_PRISTINE/.brew-check-complete && -z $MIRROR && -f $TARBALL ]]; then
  say "unpacking Homebrew $BREW_TAG from $TARBALL into $BREW_PRISTINE"
  rm -rf "$BREW_PRISTINE" "$BREW_PRISTINE.part" && mkdir -p "$BREW_PRISTINE.part"
  tar -xJf "$TARBALL" -C "$BREW_PRISTINE.part" --strip-components=1 || die "unpacking $TARBALL failed"
  touch "$BREW_PRISTINE.part/.brew-check-complete" && mv "$BREW_PRISTINE.part" "$BREW_PRISTINE"
fi
if [[ ! -f $BREW_PRISTINE/.brew-check-complete ]]; then
  [[ -n $MIRROR ]] || die "no $TARBALL and no BREW_CHECK_MIRROR (a Homebrew/brew git mirror)"
  GITDIR=$(find_gitdir) || die "no Homebrew/brew git mirror at $MIRROR"
  git --git-dir="$GITDIR" rev-parse -q --verify "$BREW_TAG^{commit}" >/dev/null || die "tag $BREW_TAG not in $GITDIR"
  say "unpacking Homebrew $BREW_TAG from $GITDIR into $BREW_PRISTINE"
  rm -rf "$BREW_PRISTINE" "$BREW_PRISTINE.part" && mkdir -p "$BREW_PRISTINE.part"
  git --git-dir="$GITDIR" archive "$BREW_TAG" | tar -x -C "$BREW_PRISTINE.part" || die "git archive $BREW_TAG failed"
  touch "$BREW_PRISTINE.part/.brew-check-complete" && mv "$BREW_PRISTINE.part" "$BREW_PRISTINE"
fi

CREATED_USER=0
kill_user_procs() { # every process of the throwaway user, one PID at a time
  local pids pid
  pids=$(ps -u "$ACC" -o pid= 2>/dev/null) || return 0
  [[ -n ${pids// /} ]] || return 0
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
  sleep 1
  for pid in $(ps -u "$ACC" -o pid= 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
}
drop_user() {
  id -u "$ACC" >/dev/null 2>&1 || return 0
  [[ $(getent passwd "$ACC" | cut -d: -f5) == "$ACC_GECOS" ]] ||
    die "user $ACC exists and was not made by brew-check; set BREW_CHECK_USER"
  kill_user_procs
  userdel "$ACC" 2>/dev/null || { sleep 1; kill_user_procs; userdel "$ACC"; }
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  cd / || true
  ((CREATED_USER)) && { kill_user_procs; userdel "$ACC" 2>/dev/null || { sleep 1; kill_user_procs; userdel "$ACC"; }; }
  if [[ -d $RUN/out ]]; then rm -rf "$LAST_LOGS" && cp -r "$RUN/out" "$LAST_LOGS" && chown -R root:root "$LAST_LOGS"; fi
  if [[ ${BREW_CHECK_KEEP:-0} == 1 ]]; then
    [[ -d $RUN ]] && chown -R root:root "$RUN" && say "(run directory kept: $RUN)"
  else
    rm -rf "$RUN"
  fi
  exit "$rc"
}
drop_user # a leftover from an interrupted run
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$RUN" && mkdir -p "$RUN"/{home,cache,logs,tmp,mirror,out/units,scripts}
useradd --system --user-group --no-create-home --home-dir "$RUN/home" --shell /usr/sbin/nologin \
  --comment "$ACC_GECOS" "$ACC" || die "useradd $ACC failed"
CREATED_USER=1
cp -a "$BREW_PRISTINE" "$RUN/brew"
# Backport: `throttle_interval` (launchd ThrottleInterval) exists in the service DSL of Homebrew >= 5.0.3,
# which every auto-updating Homebrew has; 4.3.0 (the newest that runs here) lacks it.
grep -q "def throttle_interval" "$RUN/brew/Library/Homebrew/service.rb" || cat >>"$RUN/brew/Library/Homebrew/service.rb" <<'RUBY'

module Homebrew
  class Service
    def throttle_interval(value = nil)
      return @throttle_interval if value.nil?

      @throttle_interval = value
    end
  end
end
RUBY
BREW=$RUN/brew/bin/brew

# Tap name: the org/name that the set's own `depends_on "org/name/formula"` lines use.
NAMES=()
for f in "${SRC_FORMULAE[@]}"; do NAMES+=("$(basename "$f" .rb)"); done
TAP=${BREW_CHECK_TAP:-}
if [[ -z $TAP ]]; then
  TAP=$(for f in "${SRC_FORMULAE[@]}"; do
    grep -oE "depends_on +[\"'][^\"'/]+/[^\"'/]+/[^\"'/]+[\"']" "$f" | sed -E "s/depends_on +[\"']//; s/[\"']$//"
  done | while IFS=/ read -r org tap dep; do
    for n in "${NAMES[@]}"; do [[ $dep == "$n" ]] && echo "$org/${tap#homebrew-}"; done
  done | sort -u)
  [[ $(wc -l <<<"$TAP") -le 1 ]] || die "formulae refer to several taps for each other: ${TAP//$'\n'/ }"
  TAP=${TAP:-brewcheck/local}
fi
TAP_ORG=${TAP%%/*} TAP_NAME=${TAP#*/} TAP_NAME=${TAP_NAME#homebrew-}
TAPDIR=$RUN/brew/Library/Taps/$TAP_ORG/homebrew-$TAP_NAME
mkdir -p "$TAPDIR/Formula" "$RUN/brew/Library/Taps/homebrew/homebrew-core"
cp "${SRC_FORMULAE[@]}" "$TAPDIR/Formula/"
chown -R "$ACC:$ACC" "$RUN"
cd "$RUN" || die "cannot enter $RUN"

USER_ENV=(HOME="$RUN/home" USER="$ACC" LOGNAME="$ACC" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
  TMPDIR="$RUN/tmp" HOMEBREW_CACHE="$RUN/cache" HOMEBREW_LOGS="$RUN/logs" HOMEBREW_TEMP="$RUN/tmp"
  HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_INSTALL_FROM_API=1 HOMEBREW_DEVELOPER=1 HOMEBREW_USE_RUBY_FROM_PATH=1
  HOMEBREW_NO_ANALYTICS=1 HOMEBREW_NO_ENV_HINTS=1 HOMEBREW_NO_INSTALL_CLEANUP=1 HOMEBREW_NO_BOOTSNAP=1
  HOMEBREW_CURL_RETRIES=0 HOMEBREW_NO_GITHUB_API=1 HOMEBREW_NO_COLOR=1 HOMEBREW_NO_EMOJI=1)
as_user() { runuser -u "$ACC" -- env -i "${USER_ENV[@]}" "$@"; }
tap_git() { as_user git -C "$TAPDIR" -c user.name=brew-check -c user.email=brew-check@localhost "$@"; }
as_user git -C "$RUN/brew/Library/Taps/homebrew/homebrew-core" init -q || die "git init (core tap) failed"
{ tap_git init -q && tap_git add -A && tap_git commit -q -m "formulae under test"; } || die "git init (tap) failed"
TAP_FILES=("$TAPDIR"/Formula/*.rb)

# ------------------------------------------------------------------------------------ helper scripts
cat >"$RUN/scripts/simulated_cpu.rb" <<'RUBY'
# Homebrew 4.3.0's Hardware::CPU.type reads RUBY_PLATFORM, so `if Hardware::CPU.arm?` in a formula ignores
# Homebrew::SimulateSystem. Make it follow the simulated arch, as on a real machine of that arch.
# (Prepended: sorbet-runtime redefines sig'd methods by name on first call, which would undo an alias.)
require "hardware"
module BrewCheckSimulatedCPU
  def type
    ::Homebrew::SimulateSystem.arch || super
  end
end
Hardware::CPU.singleton_class.prepend(BrewCheckSimulatedCPU)
RUBY

cat >"$RUN/scripts/resolve.rb" <<'RUBY'
# brew ruby -- resolve.rb OUT.tsv FORMULA.rb...: url/sha256 of each formula per simulated OS/arch.
require_relative "simulated_cpu"
require "formula"
require "formulary"
PLATFORMS = { "macos-arm64" => [:sonoma, :arm], "macos-x86_64" => [:sonoma, :intel],
              "linux-x86_64" => [:linux, :intel], "linux-arm64" => [:linux, :arm] }.freeze
cell = ->(s) { s.to_s.gsub(/\s+/, " ").strip }
out = File.open(ARGV.shift, "w")
ARGV.each do |path|
  info = nil
  PLATFORMS.each do |plat, (os, arch)|
    Homebrew::SimulateSystem.with(os:, arch:) do
      f = Formulary.factory(path)
      info ||= ["F", path, f.full_name, f.name, f.version, f.service? ? "service" : "-", "loaded",
                f.deps.map(&:name).join(",")] if plat == "linux-x86_64"
      spec = f.stable
      # Requirements Homebrew would refuse the install with on this OS/arch, with Homebrew's own message
      # (ArchRequirement follows the simulated CPU; the OS requirements are decided from the simulated OS).
      refusals = f.requirements.filter_map do |r|
        met = case r
              when ArchRequirement then r.satisfied?
              when MacOSRequirement then os != :linux
              when LinuxRequirement then os == :linux
              else true
              end
        r.message unless met
      end
      rosetta = f.caveats.to_s.include?("Rosetta") ? "rosetta" : ""
      if spec&.url
        out.puts ["P", path, plat, refusals.empty? ? "ok" : "refused", spec.url, spec.checksum&.hexdigest,
                  refusals.first || f.version, rosetta].map(&cell).join("\t")
      else
        out.puts ["P", path, plat, "nourl", "", "", "no stable url"].join("\t")
      end
    rescue Exception => e # rubocop:disable Lint/RescueException (SyntaxError, FormulaSpecificationError, ...)
      msg = e.message.include?("at least a URL") ? "no url declared" : "#{e.class}: #{e.message}"
      out.puts ["P", path, plat, (msg == "no url declared") ? "nourl" : "error", "", "", msg].map(&cell).join("\t")
    end
  end
  name = File.basename(path, ".rb")
  info ||= ["F", path, [Tap.from_path(path)&.name, name].compact.join("/"), name, "?", "-", "error", ""]
  out.puts info.map(&cell).join("\t")
end
out.close
RUBY

cat >"$RUN/scripts/archives.rb" <<'RUBY'
# ruby archives.rb RESOLVED.tsv DIST_DIR HOST_PLATFORM MAP.tsv SUMMARY: compare resolved URLs with DIST_DIR.
require "digest"
require "fileutils"
require "tmpdir"
require "uri"
tsv, dist, host, map_path, summary_path = ARGV
rows = File.readlines(tsv, chomp: true).map { |l| l.split("\t", -1) }
forms = rows.select { |r| r[0] == "F" }.to_h { |r| [r[1], r] }
plats = rows.select { |r| r[0] == "P" }.group_by { |r| r[1] }
want = { "macos-arm64" => [:macos, :arm], "macos-x86_64" => [:macos, :intel],
         "linux-x86_64" => [:linux, :intel], "linux-arm64" => [:linux, :arm] }
sha_problems = map_problems = load_problems = warnings = checked = 0
host_map = []
$sha_cache = {}
sha_of = ->(file) { $sha_cache[file] ||= Digest::SHA256.file(file).hexdigest }
# DIST_DIR by file name; an archive in a subdirectory counts too (the shallowest one wins)
by_name = Dir.glob("**/*", base: dist).map { |rel| File.join(dist, rel) }.select { |p| File.file?(p) }
             .sort_by { |p| [p.count("/"), p] }.group_by { |p| File.basename(p) }

def name_platform(base)
  b = base.downcase
  os = if b.match?(/darwin|macos|osx|apple|(^|[-_.])mac([-_.]|$)/) then :macos
       elsif b.include?("linux") then :linux
       elsif b.match?(/windows|win32|win64|(^|[-_.])win([-_.]|$)/) then :windows
       end
  arch = if b.match?(/universal|(^|[-_.])all([-_.]|$)/) then :universal
         elsif b.match?(/arm64|aarch64|armv8/) then :arm
         elsif b.match?(/amd64|x86[-_]64|x64|intel/) then :intel
         end
  [os, arch]
end

# Native binaries in a payload: [path, os, [archs]] from ELF / Mach-O / PE headers.
def classify(path)
  b = File.binread(path, 4096) || ""
  return nil if b.bytesize < 64
  if b.start_with?("\x7FELF".b)
    le = b.getbyte(5) == 1
    mach = b.byteslice(18, 2).unpack1(le ? "v" : "n")
    arch = { 0x3E => :intel, 0xB7 => :arm, 0x03 => :i386, 0x28 => :arm32 }.fetch(mach, :"elf-#{mach}")
    return [:linux, [arch]]
  end
  cpu = { 0x01000007 => :intel, 0x0100000c => :arm, 7 => :i386, 12 => :arm32 }
  if [0xfeedfacf, 0xfeedface].include?(b.unpack1("V"))
    return [:macos, [cpu.fetch(b.byteslice(4, 4).unpack1("V"), :unknown)]]
  end
  if [0xcafebabe, 0xcafebabf].include?(b.unpack1("N"))
    n = b.byteslice(4, 4).unpack1("N")
    return nil if n.zero? || n > 16 # Java class file, not a fat Mach-O
    step = (b.unpack1("N") == 0xcafebabf) ? 32 : 20
    return [:macos, (0...n).map { |i| cpu.fetch(b.byteslice(8 + (i * step), 4).unpack1("N"), :unknown) }]
  end
  return [:windows, [:unknown]] if b.start_with?("MZ")
  nil
end

def payload(archive)
  dir = Dir.mktmpdir("brew-check-payload")
  ok = case archive
       when /\.zip\z/i then system("unzip", "-q", "-o", archive, "-d", dir, out: File::NULL, err: File::NULL)
       when /\.(tar(\.\w+)?|tgz|tbz2?|txz)\z/i
         system("tar", "-xf", archive, "-C", dir, "--no-same-owner", "--no-same-permissions",
                out: File::NULL, err: File::NULL)
       else FileUtils.cp(archive, dir) || true
       end
  files = Dir.glob("**/*", File::FNM_DOTMATCH, base: dir).select { |p| File.file?(File.join(dir, p)) && !File.symlink?(File.join(dir, p)) }
  natives = files.filter_map { |p| (c = classify(File.join(dir, p))) && [p, *c] }
  [ok, files.sort, natives]
ensure
  FileUtils.rm_rf(dir) if dir
end

forms.each do |path, f|
  _, _, full, _name, version, service, loaded, deps = f
  load_problems += 1 if loaded != "loaded" || (plats[path] || []).any? { |r| r[3] == "error" }
  puts "#{full} #{version}#{(service == "service") ? " (service)" : ""}#{deps.empty? ? "" : "  depends on: #{deps}"}"
  res = (plats[path] || []).to_h { |r| [r[2], r] }
  layouts = {}
  want.each do |plat, (wos, warch)|
    _, _, _, status, url, sha, note, rosetta = res.fetch(plat, [nil, nil, nil, "error", "", "", "not resolved", ""])
    label = format("  %-13s", plat)
    if status == "refused" # depends_on arch:/:macos/:linux: brew install stops with this message here
      puts "#{label}refused by Homebrew: #{note}"
      next
    end
    # An Intel-only macOS build installs on Apple Silicon too (Rosetta 2), when the formula says so.
    warch = :intel if plat == "macos-arm64" && rosetta == "rosetta"
    if plat == "linux-arm64"
      if status == "nourl"
        puts "#{label}not declared (skipped)"
        next
      elsif status == "ok" && url == res.dig("linux-x86_64", 4)
        puts "#{label}WARN not declared separately: resolves to the linux-x86_64 archive (skipped)"
        warnings += 1
        next
      end
    end
    if status == "nourl"
      puts "#{label}FAIL no url for this platform"
      map_problems += 1
      next
    elsif status != "ok"
      puts "#{label}FAIL formula does not load: #{note[0, 400]}"
      next
    end
    checked += 1
    base = URI::DEFAULT_PARSER.unescape(File.basename(URI.parse(url).path.to_s))
    file = by_name.fetch(base, []).first || File.join(dist, base)
    msgs = []
    bad_sha = bad_map = false
    if !File.file?(file)
      msgs << "FAIL #{base} is not in DIST_DIR"
      bad_sha = true
    else
      real = sha_of.call(file)
      if by_name[base].size > 1 && by_name[base].map(&sha_of).uniq.size > 1
        msgs << "WARN #{by_name[base].size} different files named #{base} in DIST_DIR, using #{file.delete_prefix("#{dist}/")}"
        warnings += 1
      end
      if sha.to_s.empty?
        msgs << "FAIL no sha256 in the formula"
        bad_sha = true
      elsif sha.downcase != real
        msgs << "FAIL sha256 mismatch: formula #{sha[0, 12]}…, #{base} is #{real[0, 12]}…"
        bad_sha = true
        owner = by_name.values.flatten.find { |g| sha_of.call(g) == sha.downcase }
        msgs << "(that sha256 is #{owner.delete_prefix("#{dist}/")}'s)" if owner
      else
        msgs << "sha256 ok"
        msgs << "Intel build under Rosetta 2" if warch != want[plat][1]
      end
      nos, narch = name_platform(base)
      if (nos && nos != wos) || (narch && narch != :universal && narch != warch)
        msgs << "FAIL the archive name says #{[nos, narch].compact.join("/")}"
        bad_map = true
      end
      ok, files, natives = payload(file)
      if !ok
        msgs << "FAIL cannot unpack #{base}"
        bad_map = true
      else
        layouts[plat] = files.map { |p| p.sub(/\.exe\z/, "") }
        wrong = natives.reject { |_, os, archs| os == wos && archs.include?(warch) }
        if natives.empty?
          msgs << "(no native binaries inside to check)"
        elsif wrong.empty?
          msgs << "#{natives.size} native binar#{(natives.size == 1) ? "y" : "ies"} #{wos}/#{warch}"
        else
          bad_map = true
          wrong.first(3).each { |p, os, archs| msgs << "FAIL #{p} is #{os}/#{archs.join("+")}" }
        end
      end
    end
    sha_problems += 1 if bad_sha
    map_problems += 1 if bad_map && !bad_sha
    host_map << [url, file] if plat == host && File.file?(file)
    puts "#{label}#{base}  #{msgs.join("; ")}"
  end
  if layouts.values.uniq.size > 1
    warnings += 1
    puts "  WARN the archives' file lists differ between platforms: " +
         layouts.map { |p, l| "#{p}=[#{l.first(4).join(",")}#{(l.size > 4) ? ",…" : ""}]" }.join(" ")
  end
end
File.write(map_path, host_map.map { |u, f| "#{u}\t#{f}\n" }.join)
File.write(summary_path, "checked=#{checked}\nsha=#{sha_problems}\nmapping=#{map_problems}\n" \
                         "load=#{load_problems}\nwarnings=#{warnings}\n")
RUBY

cat >"$RUN/scripts/audit.rb" <<'RUBY'
# brew ruby -- audit.rb ARGS: Homebrew's own `brew audit`, offline (bundler gem installation stubbed).
require_relative "simulated_cpu"
require "dev-cmd/audit"
module Homebrew
  def self.install_bundler_gems!(**_kwargs); end
end
Homebrew::DevCmd::Audit.new(ARGV).run
exit 1 if Homebrew.failed?
RUBY

printf 'BREW_CHECK_MINITEST = "%s"\n' "$MINITEST_LIB" >"$RUN/scripts/test.rb" # brew.sh drops unknown env vars
cat >>"$RUN/scripts/test.rb" <<'RUBY'
# brew ruby -- test.rb ARGS: Homebrew's own `brew test`, offline, with Debian's minitest for the test process.
require "dev-cmd/test"
module Homebrew
  def self.install_bundler_gems!(**_kwargs)
    mt = BREW_CHECK_MINITEST
    $LOAD_PATH.unshift(mt) unless $LOAD_PATH.include?(mt)
    ENV["RUBYLIB"] = mt
  end
end
Homebrew::DevCmd::Test.new(ARGV).run
exit 1 if Homebrew.failed?
RUBY

cat >"$RUN/scripts/services.rb" <<'RUBY'
# brew ruby -- services.rb OUTDIR FULL_NAME...: print and check the service files of installed formulae.
require_relative "simulated_cpu"
require "formula"
require "service"
require "plist"
require "shellwords"
outdir = Pathname(ARGV.shift)
problems = 0
fail_msg = ->(msg) { puts "  FAIL #{msg}"; problems += 1 }
check_exe = lambda do |what, f, cmd|
  exe = cmd&.first
  return fail_msg.call("#{what}: no command") if exe.nil?
  real = File.realpath(exe) rescue nil
  if real.nil? || !File.file?(real) || !File.executable?(real)
    fail_msg.call("#{what}: #{exe} is not an existing executable")
  elsif real.start_with?("#{f.opt_prefix.realpath}/")
    puts "  ok   #{what}: #{exe} -> #{real} (executable, in the #{f.name} keg)"
  elsif real.start_with?("#{HOMEBREW_CELLAR.realpath}/")
    puts "  ok   #{what}: #{exe} -> #{real} (executable, in another keg)"
  else
    fail_msg.call("#{what}: #{exe} -> #{real} is outside the Cellar")
  end
end
ARGV.each do |name|
  f = Formulary.factory(name)
  next unless f.service?

  puts "==> #{f.full_name}: service do"
  svc = f.service
  unit = svc.to_systemd_unit
  puts "--- #{f.service_name}.service (systemd, as `brew services` installs it on Linux)", unit
  (outdir/"#{f.service_name}.service").write("#{unit}\n")
  if svc.timed?
    timer = svc.to_systemd_timer
    puts "--- #{f.service_name}.timer", timer
    (outdir/"#{f.service_name}.timer").write("#{timer}\n")
  end
  # the plist as generated on a Mac (run macos: / linux: picks the macOS command)
  plist = Homebrew::SimulateSystem.with(os: :sonoma, arch: :arm) { Homebrew::Service.new(f, &f.class.service).to_plist }
  puts "--- #{f.plist_name}.plist (launchd, as generated for macOS)", plist
  (outdir/"#{f.plist_name}.plist").write(plist)
  puts "--- checks"
  exec_start = unit[/^ExecStart=(.*)$/, 1]
  unit_cmd = exec_start && Shellwords.split(exec_start)
  check_exe.call("systemd ExecStart", f, unit_cmd)
  fail_msg.call("ExecStart #{unit_cmd&.first} differs from the service command #{svc.command&.first}") if unit_cmd&.first != svc.command&.first
  args = (Plist.parse_xml(plist) || {})["ProgramArguments"]
  check_exe.call("launchd ProgramArguments", f, args)
  { "keg systemd unit" => f.systemd_service_path, "keg launchd plist" => f.launchd_service_path }.each do |what, p|
    p.exist? ? puts("  ok   #{what}: #{p}") : fail_msg.call("#{what} #{p} was not written by brew install")
  end
  File.write(outdir/"#{f.name}.cmd", Shellwords.join(svc.command || []))
  File.write(outdir/"#{f.name}.env", svc.instance_variable_get(:@environment_variables).map { |k, v| "#{k}=#{v}\n" }.join)
  File.write(outdir/"#{f.name}.dir", svc.instance_variable_get(:@working_dir).to_s)
rescue => e
  fail_msg.call("#{name}: #{e.class}: #{e.message}")
end
exit(problems.zero? ? 0 : 1)
RUBY

cat >"$RUN/scripts/style.yml" <<YAML
require:
  - $RUN/brew/Library/Homebrew/rubocops.rb
AllCops:
  TargetRubyVersion: 3.1
  NewCops: enable
  SuggestExtensions: false
YAML
chown -R "$ACC:$ACC" "$RUN/scripts"

case $(uname -m) in x86_64 | amd64) HOST_PLAT=linux-x86_64 ;; aarch64 | arm64) HOST_PLAT=linux-arm64 ;; *) die "unsupported host $(uname -m)" ;; esac
OUT=$RUN/out
FAILS=()
ok_or_fail() { if [[ $1 -eq 0 ]]; then say "  -> ok: $2"; else say "  -> FAIL: $2"; FAILS+=("$2"); fi; }

say "brew-check: ${#TAP_FILES[@]} formulae from $FORMULA_DIR, archives from $DIST_DIR"
say "Homebrew $BREW_TAG at $RUN/brew (user $ACC), tap $TAP_ORG/$TAP_NAME, host platform $HOST_PLAT"

# ------------------------------------------------------------------------------- 1. url + checksums
hdr "1/4 per-platform url and sha256 (Formulary.factory under SimulateSystem)"
as_user "$BREW" ruby -- "$RUN/scripts/resolve.rb" "$OUT/resolved.tsv" "${TAP_FILES[@]}" >"$OUT/resolve.log" 2>&1
rc=$?
if [[ $rc -ne 0 || ! -s $OUT/resolved.tsv ]]; then
  cat "$OUT/resolve.log"
  die "loading the formulae with Homebrew failed (rc=$rc)"
fi
ruby "$RUN/scripts/archives.rb" "$OUT/resolved.tsv" "$DIST_DIR" "$HOST_PLAT" "$OUT/hostmap.tsv" "$OUT/archives.summary"
checked=0 sha=0 mapping=0 load=0 warnings=0
# shellcheck disable=SC1091
. "$OUT/archives.summary" # checked= sha= mapping= load= warnings=
((load == 0)) || ok_or_fail 1 "$load formulae do not load with Homebrew's Formulary"
ok_or_fail $((sha + mapping)) "$checked platform archives: $sha checksum problems, $mapping platform-mapping problems, $warnings warnings"

# Formula facts for later steps.
declare -A FULL DEPS SERVICE LOADED
while IFS=$'\t' read -r kind path full _name _version service loaded deps; do # deps last: it may be empty
  [[ $kind == F ]] || continue
  [[ $full == */*/* ]] || full=$TAP_ORG/$TAP_NAME/${full##*/}
  FULL[$path]=$full DEPS[$path]=$deps SERVICE[$path]=$service LOADED[$path]=$loaded
done <"$OUT/resolved.tsv"

# -------------------------------------------------------------------------------- 2. cops + audit
hdr "2/4 Homebrew formula cops (rubocop --only FormulaAudit,FormulaAuditStrict,Lint/Syntax)"
(cd "$TAPDIR" && as_user rubocop --cache false --config "$RUN/scripts/style.yml" \
  --only FormulaAudit,FormulaAuditStrict,Lint/Syntax --display-cop-names -f emacs -f json -o "$OUT/rubocop.json" Formula) >"$OUT/rubocop.log" 2>&1
rc=$?
sed "s#^$TAPDIR/##" "$OUT/rubocop.log"
COPS=$(ruby -rjson -e 'j = JSON.parse(File.read(ARGV[0])); s = j["summary"]
  print s["inspected_file_count"].to_i.zero? ? -1 : s["offense_count"]' "$OUT/rubocop.json" 2>/dev/null || echo -1)
if [[ $COPS -lt 0 || $rc -gt 1 ]]; then
  ok_or_fail 1 "rubocop did not run (rc=$rc)"
  COPS_TXT="cops did not run"
else
  ok_or_fail "$COPS" "$COPS cop offences in ${#TAP_FILES[@]} files"
  COPS_TXT="$COPS cop offences"
fi

hdr "2/4 brew audit --strict --formula (all OS/arch, offline)"
FULL_NAMES=() AUDIT_NAMES=()
for p in "${TAP_FILES[@]}"; do
  FULL_NAMES+=("${FULL[$p]}")
  [[ ${LOADED[$p]} == loaded ]] && AUDIT_NAMES+=("${FULL[$p]}") # one unloadable formula would abort the audit
done
if ((${#AUDIT_NAMES[@]})); then
  as_user "$BREW" ruby -- "$RUN/scripts/audit.rb" --strict --skip-style --os=all --arch=all --formula \
    "${AUDIT_NAMES[@]}" >"$OUT/audit.log" 2>&1
  rc=$?
else
  echo "nothing to audit: no formula loads" >"$OUT/audit.log"
  rc=1
fi
grep -vE $'^\t(from |/)' "$OUT/audit.log" # without Ruby backtraces (full log: audit.log)
AUDIT=$(grep -cE '^ +\* ' "$OUT/audit.log")
[[ $rc -ne 0 && $AUDIT -eq 0 ]] && AUDIT=1 # failed without listing problems
ok_or_fail $((rc != 0 || AUDIT > 0)) "brew audit: $AUDIT problems"

# -------------------------------------------------------------------------- 3. install, test, services
hdr "3/4 brew install + brew test on this host ($HOST_PLAT), URLs rewritten to file://"
while IFS=$'\t' read -r url file; do # the archive at a path that mirrors the URL (version parsing unchanged)
  dest=$RUN/mirror/$(sed -E 's#^[a-zA-Z]+://##' <<<"$url")
  mkdir -p "$(dirname "$dest")" && cp "$file" "$dest"
done <"$OUT/hostmap.tsv"
chown -R "$ACC:$ACC" "$RUN/mirror"
sed -E -i "s#^([[:space:]]*url[[:space:]]*\(?[[:space:]]*[\"'])(https?|ftp)://#\\1file://$RUN/mirror/#" "$TAPDIR"/Formula/*.rb
tap_git commit -q -a -m "brew-check: urls rewritten to file://" >/dev/null || true
say "rewritten: $(grep -hoE "url[[:space:]]*\(?[[:space:]]*[\"']file://[^\"']+" "$TAPDIR"/Formula/*.rb | wc -l) url lines -> file://$RUN/mirror/..."

# Install the formulae nothing else in the set depends on; brew must pull in the rest.
ROOTS=()
for p in "${TAP_FILES[@]}"; do
  [[ ${LOADED[$p]:-} == loaded ]] || { say "  skipped: ${FULL[$p]:-$p} does not load"; continue; }
  needed=0
  for q in "${TAP_FILES[@]}"; do [[ ,${DEPS[$q]}, == *",${FULL[$p]}",* || ,${DEPS[$q]}, == *",$(basename "$p" .rb)",* ]] && needed=1; done
  ((needed)) || ROOTS+=("${FULL[$p]}")
  IFS=, read -r -a pdeps <<<"${DEPS[$p]}"
  for d in "${pdeps[@]}"; do # a dependency outside the set cannot be installed offline (empty homebrew/core)
    [[ " ${NAMES[*]} " == *" ${d##*/} "* ]] || say "  note: ${FULL[$p]} depends on $d, which is not in this set: brew install will fail offline"
  done
done
if ((${#ROOTS[@]})); then
  say "brew install ${ROOTS[*]}"
  as_user "$BREW" install "${ROOTS[@]}" 2>&1 | tee "$OUT/install.log" | grep -vE 'SBOM|spdx|Could not resolve host'
  INSTALL_RC=${PIPESTATUS[0]}
else
  INSTALL_RC=1
fi
INSTALLED=()
for n in "${FULL_NAMES[@]}"; do
  short=${n##*/}
  if compgen -G "$RUN/brew/Cellar/$short/*" >/dev/null; then INSTALLED+=("$n"); else say "  not installed: $n"; fi
done
ok_or_fail $((INSTALL_RC != 0 || ${#INSTALLED[@]} != ${#FULL_NAMES[@]})) \
  "brew install: ${#INSTALLED[@]}/${#FULL_NAMES[@]} formulae installed (from ${#ROOTS[@]} top formulae)"
# Post-install checks (FormulaCellarChecks: service command missing, non-executables in bin, ...) only warn.
INSTALL_WARN=$(grep -E '^Warning:' "$OUT/install.log" 2>/dev/null | grep -vcE 'SBOM')
((INSTALL_WARN == 0)) || ok_or_fail 1 "brew install printed $INSTALL_WARN warnings (post-install checks), see above"

TEST_FAILS=0
for n in "${INSTALLED[@]}"; do
  as_user "$BREW" ruby -- "$RUN/scripts/test.rb" "$n" 2>&1 | tee -a "$OUT/test.log"
  if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
    TEST_FAILS=$((TEST_FAILS + 1))
    say "  brew test $n: FAILED"
  fi
done
ok_or_fail $((TEST_FAILS + ${#FULL_NAMES[@]} - ${#INSTALLED[@]})) \
  "brew test: $((${#INSTALLED[@]} - TEST_FAILS))/${#FULL_NAMES[@]} passed"

SVC_NAMES=()
for p in "${TAP_FILES[@]}"; do [[ ${SERVICE[$p]:-} == service ]] && SVC_NAMES+=("${FULL[$p]}"); done
SVC_SUMMARY="no services"
if ((${#SVC_NAMES[@]})); then
  hdr "3/4 service files (${#SVC_NAMES[@]}): systemd unit + launchd plist"
  SVC_INST=()
  for n in "${SVC_NAMES[@]}"; do [[ " ${INSTALLED[*]} " == *" $n "* ]] && SVC_INST+=("$n"); done
  svc_rc=1
  for n in "${SVC_NAMES[@]}"; do [[ " ${SVC_INST[*]} " == *" $n "* ]] || say "  FAIL $n is not installed: its service files cannot be checked"; done
  if ((${#SVC_INST[@]})); then
    as_user "$BREW" ruby -- "$RUN/scripts/services.rb" "$OUT/units" "${SVC_INST[@]}" 2>&1 | tee "$OUT/services.log"
    svc_rc=${PIPESTATUS[0]}
    ((${#SVC_INST[@]} == ${#SVC_NAMES[@]})) || svc_rc=1
    for n in "${SVC_INST[@]}"; do
      short=${n##*/}
      units=("$RUN/brew/opt/$short"/*.service "$RUN/brew/opt/$short"/*.timer)
      if command -v systemd-analyze >/dev/null && ((${#units[@]})); then
        if v=$(systemd-analyze verify "${units[@]}" 2>&1); then say "  ok   systemd-analyze verify ${units[*]##*/}"
        else say "  FAIL systemd-analyze verify ${units[*]##*/}:" "$v"; svc_rc=1; fi
      fi
      if [[ ${BREW_CHECK_START_SERVICES:-0} == 1 && -f $OUT/units/$short.cmd ]]; then
        mapfile -t envs <"$OUT/units/$short.env"
        wd=$(cat "$OUT/units/$short.dir"); wd=${wd:-$RUN/home}
        mkdir -p "$wd" "$RUN/brew/var/log" && chown -R "$ACC:$ACC" "$RUN/brew/var"
        cmd=()
        eval "cmd=($(cat "$OUT/units/$short.cmd"))"
        (cd "$wd" && exec runuser -u "$ACC" -- env -i "${USER_ENV[@]}" "${envs[@]}" "${cmd[@]}") >"$OUT/$short.run.log" 2>&1 &
        spid=$!
        sleep 3
        if kill -0 "$spid" 2>/dev/null; then
          say "  ok   started ${cmd[*]} as $ACC: still running after 3 s (pid $spid), stopping it"
          kill_user_procs
          wait "$spid" 2>/dev/null
        elif wait "$spid"; then say "  ok   started ${cmd[*]}: exited 0 within 3 s"
        else say "  FAIL started ${cmd[*]}: exited $? within 3 s: $(tail -3 "$OUT/$short.run.log")"; svc_rc=1; fi
      fi
    done
    for pl in "$OUT/units"/*.plist; do
      command -v plistutil >/dev/null || break
      if plistutil -i "$pl" -o /dev/null -f bin >/dev/null 2>&1; then say "  ok   plistutil parses ${pl##*/}"
      else say "  FAIL plistutil cannot parse ${pl##*/}"; svc_rc=1; fi
    done
  fi
  ok_or_fail "$svc_rc" "service files of ${#SVC_NAMES[@]} formulae"
  SVC_SUMMARY="services ok"
  [[ $svc_rc -eq 0 ]] || SVC_SUMMARY="services FAILED"
fi

# ------------------------------------------------------------------------------------------ summary
hdr "4/4 summary"
ELAPSED=$((SECONDS - START_TIME))
if [[ $INSTALL_RC -ne 0 || ${#INSTALLED[@]} -ne ${#FULL_NAMES[@]} ]]; then INST_TXT="install FAILED"
elif ((INSTALL_WARN == 0 && TEST_FAILS == 0)); then INST_TXT="install+test ok"
else
  INST_TXT="install ok"
  ((INSTALL_WARN == 0)) || INST_TXT="install with $INSTALL_WARN warnings"
  ((TEST_FAILS == 0)) || INST_TXT+=", $TEST_FAILS test(s) FAILED"
fi
if ((${#FAILS[@]})); then
  for f in "${FAILS[@]}"; do say "  FAIL: $f"; done
  VERDICT=FAIL
else
  say "  all checks passed"
  VERDICT=PASS
fi
LOAD_TXT=""
((load == 0)) || LOAD_TXT=" ($load do not load)"
say "brew-check: ${#FULL_NAMES[@]} formulae$LOAD_TXT, $checked platform archives, $COPS_TXT, $AUDIT audit problems, $sha checksum mismatches, $mapping platform-mapping errors, $INST_TXT, $SVC_SUMMARY: $VERDICT (${ELAPSED}s)"
[[ $VERDICT == PASS ]]
