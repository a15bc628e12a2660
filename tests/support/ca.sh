#!/bin/sh
# Makes the TLS tests' private PKI in DIR (argument 1) with the openssl command line:
#   ca.pem ca.key                 the test CA
#   NAME.rsa.pem NAME.rsa.key     RSA 2048 leaf for NAME (a.test, b.test), SAN DNS:NAME
#   NAME.ec.pem NAME.ec.key       ECDSA P-256 leaf for NAME
#   NAME.full.pem                 the RSA leaf followed by the CA (a chain file)
#   client.pem client.key         a client certificate (CN=alice) from the test CA
#   rogue-ca.pem rogue.pem rogue.key  a client certificate from another CA (refused)
# Leaves are valid 30 days; nothing here is secret beyond the test.
set -eu
dir=$1
cd "$dir"
ossl() { openssl "$@" 2>>openssl.log; }

mkca() { # name cn
    ossl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 30 \
        -subj "/O=portico tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
}

sign() { # out csr ca ext
    ossl x509 -req -in "$2" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 30 \
        -extfile "$4" -out "$1"
}

leaf() { # name kind(rsa|ec)
    if [ "$2" = rsa ]; then
        ossl req -newkey rsa:2048 -nodes -keyout "$1.$2.key" -out "$1.$2.csr" -subj "/CN=$1"
    else
        ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.$2.key" \
            -out "$1.$2.csr" -subj "/CN=$1"
    fi
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
        "$1" >"$1.ext"
    sign "$1.$2.pem" "$1.$2.csr" ca "$1.ext"
}

client() { # name cn ca
    ossl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/O=portico tests/CN=$2"
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >client.ext
    sign "$1.pem" "$1.csr" "$3" client.ext
}

mkca ca "portico test CA"
for n in a.test b.test; do
    leaf "$n" rsa
    leaf "$n" ec
    cat "$n.rsa.pem" ca.pem >"$n.full.pem"
done
client client alice ca
mkca rogue-ca "rogue CA"
client rogue mallory rogue-ca
rm -f ./*.csr ./*.ext ./*.srl
