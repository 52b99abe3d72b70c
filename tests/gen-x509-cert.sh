#!/bin/sh
# Regenerates the certificates embedded in tests/x509-certs.h (used by
# test-decode.c and as the fuzz-x509 seed corpus) and prints what
# openssl says of them: the values test-decode.c expects.
#   sh tests/gen-x509-cert.sh OUTDIR
set -e
d=${1:-.}
cd "$d"
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem \
    -days 400 -set_serial 0x00c0ffee0123456789 \
    -subj '/C=CA/ST=Quebec/O=Test\, Inc./OU=Ops;Sec/CN=www.example.test' \
    -addext 'subjectAltName=DNS:www.example.test,DNS:*.example.test,IP:192.0.2.7,email:ops@example.test' 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ec.key -out ec.pem -days 30 -set_serial 7 \
    -multivalue-rdn -subj '/O=Elliptic/CN=ec.example.test+UID=7' 2>/dev/null
for c in rsa ec; do
	openssl x509 -in $c.pem -outform DER -out $c.der
	openssl x509 -in $c.pem -noout -subject -issuer -serial -dates \
	    -nameopt RFC2253
	openssl x509 -in $c.pem -noout -text | grep -E 'Public-Key|DNS:'
done
