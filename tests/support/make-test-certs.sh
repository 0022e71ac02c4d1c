#!/usr/bin/env bash
# Makes throwaway TLS material for tests in DIR (created if missing), valid for two days:
#   ca.pem, ca.key                 a test certificate authority
#   server.pem, server.key         a server certificate for 127.0.0.1 and localhost, signed by it
#   self-signed.pem, self-signed.key   a self-signed certificate for 127.0.0.1 and localhost
# P-256 keys, so it takes milliseconds. Usage: make-test-certs.sh DIR
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

# Explicit configs, so the result does not depend on the machine's openssl.cnf.
cat > ca.cnf <<'CNF'
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = aftershock test CA
[ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF

cat > leaf.cnf <<'CNF'
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = 127.0.0.1
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
CNF

openssl req -x509 -config ca.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca.key -out ca.pem -days 2 2>/dev/null
openssl req -new -config leaf.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile leaf.cnf -extensions ext -out server.pem 2>/dev/null
openssl req -x509 -config leaf.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout self-signed.key -out self-signed.pem -days 2 2>/dev/null
openssl verify -CAfile ca.pem server.pem >/dev/null
