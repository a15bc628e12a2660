#!/bin/sh
# Makes the stapling tests' PKI in DIR (argument 1) for an OCSP responder on 127.0.0.1:PORT
# (argument 2), with the openssl command line:
#   ca.pem ca.key           the test CA (ECDSA P-256)
#   ocsp.pem ocsp.key       the responder's signer, delegated by the CA (OCSPSigning)
#   a.test.pem a.test.key   a leaf whose AIA names the responder (status: good)
#   b.test.pem b.test.key   another, revoked in the CA's database
#   c.test.pem c.test.key   a leaf without AIA
#   index.txt               the CA's database for `openssl ocsp -index`
# Valid 30 days; nothing here is secret beyond the test.
set -eu
dir=$1
port=$2
cd "$dir"
ossl() { openssl "$@" 2>>openssl.log; }

ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 30 -subj "/O=portico tests/CN=portico OCSP test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

cert() { # name serial extensions...
    name=$1 serial=$2
    shift 2
    printf '%s\n' "$@" >"$name.ext"
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" \
        -out "$name.csr" -subj "/CN=$name"
    ossl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$serial" -days 30 \
        -extfile "$name.ext" -out "$name.pem"
}

aia="authorityInfoAccess=OCSP;URI:http://127.0.0.1:$port/"
cert ocsp 1000 "basicConstraints=CA:FALSE" "extendedKeyUsage=OCSPSigning"
cert a.test 1001 "subjectAltName=DNS:a.test" "basicConstraints=CA:FALSE" "$aia"
cert b.test 1002 "subjectAltName=DNS:b.test" "basicConstraints=CA:FALSE" "$aia"
cert c.test 1003 "subjectAltName=DNS:c.test" "basicConstraints=CA:FALSE"

end=$(date -u -d '+30 days' +%y%m%d%H%M%SZ)
revoked=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t1001\tunknown\t/CN=a.test\n' "$end" >index.txt
printf 'R\t%s\t%s\t1002\tunknown\t/CN=b.test\n' "$end" "$revoked" >>index.txt
printf 'unique_subject = no\n' >index.txt.attr
rm -f ./*.csr ./*.ext
