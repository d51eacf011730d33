#!/bin/sh
# Writes the secret files compose.yaml mounts (./secrets/, mode 0600, never committed): one random
# PostgreSQL password used by both PostgreSQL and the server's config, a signer passphrase, and a
# private CA with a certificate for signet-server. Existing files are kept.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
cd secrets
[ -f postgres_password ] || openssl rand -hex 24 > postgres_password
[ -f signet-server.json ] || printf '{"database":"postgres://signet:%s@postgres:5432/signet"}\n' "$(cat postgres_password)" > signet-server.json
[ -f signer_passphrase ] || openssl rand -hex 32 > signer_passphrase
if [ ! -f tls.crt ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=signet compose CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=signet-server" -keyout tls.key -out tls.csr 2>/dev/null
  printf 'subjectAltName=DNS:signet-server,DNS:localhost,IP:127.0.0.1\n' > san.ext
  openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile san.ext -out tls.crt 2>/dev/null
  rm -f tls.csr san.ext ca.srl
fi
ls -l
