#!/bin/sh
# Option A for the webhook's serving certificate, without cert-manager: a private CA and a
# certificate for the Service (signet-admission.signet-system.svc), made with openssl. Prints the
# commands that store them in the Secret the Deployment mounts and put the CA in the webhook
# configurations' caBundle. Run it again (new files) before the certificate expires.
#
#   deploy/kubernetes/make-certs.sh [OUT_DIR]     (env: NAMESPACE, SERVICE, DAYS)
set -eu
OUT=${1:-./signet-admission-certs}
NAMESPACE=${NAMESPACE:-signet-system}
SERVICE=${SERVICE:-signet-admission}
DAYS=${DAYS:-365}
umask 077
mkdir -p "$OUT"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -sha256 \
  -keyout "$OUT/ca.key" -out "$OUT/ca.crt" -subj "/CN=$SERVICE-ca" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$OUT/tls.key" -out "$OUT/tls.csr" -subj "/CN=$SERVICE.$NAMESPACE.svc" 2>/dev/null
# the API server checks the name it dials, <service>.<namespace>.svc, against the SANs
cat > "$OUT/tls.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$SERVICE.$NAMESPACE.svc,DNS:$SERVICE.$NAMESPACE.svc.cluster.local,DNS:$SERVICE.$NAMESPACE,DNS:$SERVICE
EXT
openssl x509 -req -in "$OUT/tls.csr" -CA "$OUT/ca.crt" -CAkey "$OUT/ca.key" -CAcreateserial \
  -days "$DAYS" -sha256 -extfile "$OUT/tls.ext" -out "$OUT/tls.crt" 2>/dev/null
rm -f "$OUT/tls.csr" "$OUT/tls.ext" "$OUT/ca.srl"

CA_BUNDLE=$(base64 < "$OUT/ca.crt" | tr -d '\n')
cat <<NEXT
Wrote $OUT/ca.crt, $OUT/tls.crt and $OUT/tls.key (keep $OUT/ca.key offline or delete it).
Next:
  kubectl -n $NAMESPACE create secret tls $SERVICE-tls --cert=$OUT/tls.crt --key=$OUT/tls.key
  kubectl patch mutatingwebhookconfiguration $SERVICE --type=json \\
    -p '[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"$CA_BUNDLE"}]'
  kubectl patch validatingwebhookconfiguration $SERVICE --type=json \\
    -p '[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"$CA_BUNDLE"},{"op":"add","path":"/webhooks/1/clientConfig/caBundle","value":"$CA_BUNDLE"}]'
NEXT
