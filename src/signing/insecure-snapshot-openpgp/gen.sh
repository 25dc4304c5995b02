#!/bin/sh
# Makes the INSECURE snapshot OpenPGP key once (see README.md). Not run by the build or the tests: the key is
# committed so every snapshot build signs with the same key (byte-reproducible signatures and exported keys).
set -eu
cd "$(dirname "$0")"
home=$(mktemp -d)
trap 'gpgconf --homedir "$home" --kill all 2>/dev/null || true; rm -rf "$home"' EXIT
# Created 2000-01-01 (a fixed time): signatures are made at SOURCE_DATE_EPOCH, which must not precede the key.
gpg --homedir "$home" --batch --no-tty --pinentry-mode loopback --passphrase '' \
  --faked-system-time '20000101T000000!' \
  --quick-gen-key 'stigmer-dist INSECURE snapshot signing key (throwaway, its secret key is public: never trust it) <insecure-snapshot@stigmer-dist.invalid>' \
  rsa3072 sign never
gpg --homedir "$home" --batch --armor --export-secret-keys > INSECURE-snapshot-signing-key.asc
gpg --homedir "$home" --batch --with-colons --fingerprint | awk -F: '$1 == "fpr" { print $10; exit }' > INSECURE-snapshot-signing-key.fingerprint
