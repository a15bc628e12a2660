#!/bin/sh
# Makes the TLS tests' private PKI in DIR (argument 1) with the openssl command line:
#   ca.pem ca.key                 the test CA
#   NAME.rsa.pem NAME.rsa.key     RSA 2048 leaf for NAME (a.test, b.test), SAN DNS:NAME
#   NAME.ec.pem NAME.ec.key       ECDSA P-256 leaf for NAME
#   NAME.full.pem                 the RSA leaf followed by the CA (a chain file)
#   client.pem client.key         a client certificate (CN=alice) from the test CA
#   rogue-ca.pem rogue.pem rogue.key  a client certificate from another CA (refused)
#   revoked.pem revoked.key       a client certificate (CN=bob) from the test CA, revoked
#   ca.crl.pem                    the test CA's CRL, listing revoked.pem
#   rogue.crl.pem                 the rogue CA's CRL (revokes nothing)
#   crldir/                       ca.pem and ca.crl.pem under their hash names (-Path forms)
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
client revoked bob ca
# A CRL that revokes bob: openssl ca with a throwaway database.
mkdir -p crldb && : >crldb/index.txt && echo 01 >crldb/crlnumber
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=crldb/index.txt\ncrlnumber=crldb/crlnumber\n' >crl.cnf
printf 'default_md=sha256\ndefault_crl_days=30\n' >>crl.cnf
ossl ca -config crl.cnf -keyfile ca.key -cert ca.pem -revoke revoked.pem
ossl ca -config crl.cnf -keyfile ca.key -cert ca.pem -gencrl -out ca.crl.pem
mkdir -p crldir && cp ca.pem ca.crl.pem crldir/
h=$(openssl x509 -hash -noout -in ca.pem)
ln -s ca.pem "crldir/$h.0" && ln -s ca.crl.pem "crldir/$h.r0"
mkca rogue-ca "rogue CA"
client rogue mallory rogue-ca
# The rogue CA's CRL (empty): a list that says nothing of the test CA's certificates.
printf '[ca]\ndefault_ca=d\n[d]\ndatabase=crldb/rindex.txt\ncrlnumber=crldb/crlnumber\n' >crl.cnf
printf 'default_md=sha256\ndefault_crl_days=30\n' >>crl.cnf
: >crldb/rindex.txt
ossl ca -config crl.cnf -keyfile rogue-ca.key -cert rogue-ca.pem -gencrl -out rogue.crl.pem
rm -rf ./*.csr ./*.ext ./*.srl crldb crl.cnf
