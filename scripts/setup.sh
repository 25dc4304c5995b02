#!/usr/bin/env bash
# Set-up for the README's two commands (`npm run snapshot`, `npm test`) on a fresh Debian/Ubuntu machine:
# the Debian packages they need, then this project's node_modules. Quick and silent when all is present.
#
#   scripts/setup.sh build   .ci/apt-packages-build.txt: Go (stand-in payloads, Windows service host) and the
#                            tools of the default targets (rpm, wixl/msitools, gnupg, createrepo-c, xz, zstd)
#   scripts/setup.sh test    the build list plus .ci/apt-packages.txt (linters, systemd-nspawn, wine, ...)
#
# Missing packages are installed with apt-get when run as root on a Debian/Ubuntu system; otherwise the exact
# apt-get command is printed and the script fails. `npm ci` runs when node_modules is missing or older than
# package-lock.json (npm's own hidden lockfile, node_modules/.package-lock.json, is the marker); a node_modules
# that is a symbolic link is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  build) lists=(.ci/apt-packages-build.txt) ;;
  test) lists=(.ci/apt-packages-build.txt .ci/apt-packages.txt) ;;
  *)
    echo "usage: $0 build|test" >&2
    exit 2
    ;;
esac

# One package name per line; "#" starts a comment.
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${lists[@]}" | grep -v '^$' | sort -u)

# One dpkg-query for all of them; a package dpkg has never heard of is simply not in its output.
declare -A installed=()
while read -r pkg status; do
  [ "$status" = installed ] && installed[$pkg]=1
done < <(dpkg-query --show --showformat='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null || true)
missing=()
for pkg in "${wanted[@]}"; do
  [ -n "${installed[$pkg]:-}" ] || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${#missing[@]} Debian package(s): ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt/dpkg (unattended-upgrades, a parallel job) instead of failing on its lock.
    lock=(-o DPkg::Lock::Timeout=600)
    apt-get "${lock[@]}" update -qq
    apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian package(s): ${missing[*]}" >&2
    if command -v apt-get >/dev/null 2>&1; then
      echo "setup: install them as root, then run this command again:" >&2
      echo "  sudo apt-get update && sudo ${install_cmd}" >&2
    else
      echo "setup: this is not a Debian/Ubuntu system (no apt-get); install the equivalent of: ${install_cmd}" >&2
    fi
    exit 1
  fi
fi

if [ -L node_modules ]; then
  : # a link to a shared install (e.g. git worktrees sharing one): whoever owns it keeps it current
elif [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  # .npmrc's loglevel=error keeps the machine's npm quiet about engines (Node >= 22.18): the scripts run on
  # the Node 24 that the `node` devDependency installs, not on the Node that runs npm.
  npm ci --no-audit --no-fund
fi

# The bundled CLI that bin/stigmer-dist.js runs while it is current (scripts/bundle.ts): rebuilt when a source
# changed since, silent otherwise. Without esbuild (a production install) the CLI runs its sources.
if [ -x node_modules/.bin/esbuild ] && [ -x node_modules/.bin/node ]; then
  node_modules/.bin/node scripts/bundle.ts --if-stale
fi
