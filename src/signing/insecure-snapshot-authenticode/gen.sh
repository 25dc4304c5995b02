#!/bin/sh
# How the INSECURE snapshot pair was made (run once; the committed files are the result, not re-generated).
set -eu
dest=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir db && : > db/index && echo 01 > db/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = throwaway
[throwaway]
database = db/index
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[any]
organizationName = supplied
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
openssl genrsa -out ca.key 3072
openssl genrsa -out leaf.key 3072
openssl req -new -key ca.key -subj "/O=stigmer-dist/CN=INSECURE snapshot Authenticode CA (throwaway)" -out ca.csr
openssl ca -batch -config ca.cnf -selfsign -keyfile ca.key -in ca.csr -startdate 20000101000000Z -enddate 20991231235959Z -extensions v3_ca -out ca.pem -notext
openssl req -new -key leaf.key -subj "/O=stigmer-dist/CN=INSECURE snapshot code signing (throwaway)" -out leaf.csr
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in leaf.csr -startdate 20000101000000Z -enddate 20991231235959Z -extensions v3_leaf -out leaf.pem -notext
printf insecure > pass
openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile ca.pem -passout file:pass -out snapshot.p12
cp snapshot.p12 "$dest/INSECURE-snapshot-codesign.p12"
cp ca.pem "$dest/INSECURE-snapshot-ca.pem"
