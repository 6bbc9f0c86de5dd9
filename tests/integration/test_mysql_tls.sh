#!/bin/bash
# --source-ssl-* with a MySQL/MariaDB source (source/mysql/mysql_conn.c mysql_tls_plan_of), against
# throwaway MariaDB servers with TLS (a CA and certificates made here with openssl) and one without.
# What the server sees proves it: an account created REQUIRE SSL logs in only over TLS, one created
# REQUIRE SUBJECT only with the client certificate, and the server's Ssl_finished_accepts counts
# the TLS handshakes.
#   prefer (the default) and allow: TLS when the server offers it, with the client certificate
#     given; plain text when it offers none; a handshake the root cert refuses is retried in
#     plain text with a warning
#   disable: never TLS
#   require: TLS or a clear error (before: a server without TLS was accepted in plain text)
#   verify-ca: the chain against --source-ssl-root-cert, not the host name (before: the host name
#     too); refused without a root cert
#   verify-full: the chain and the host name
#   --source-ssl-crl: a revoked server certificate is refused; refused where no chain is checked
# The binlog reader's unit tests run over TLS too (every connection takes the same path).
# Before the fix, prefer and allow never asked for TLS and dropped the certificate, key, root cert
# and CRL: the REQUIRE SSL and REQUIRE SUBJECT logins failed.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
V=$VOYAGER

# ---- a CA, a server certificate for 127.0.0.1, one for another name, a client certificate ----
C="$TEST_TMP/certs"
mkdir -p "$C"
make_certs() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=voyager test CA" \
        -keyout "$C/ca.key" -out "$C/ca.pem" || return 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
        -keyout "$C/other-ca.key" -out "$C/other-ca.pem" || return 1
    local spec name san
    for spec in server:IP:127.0.0.1 wrong-name:DNS:wrong.example client:DNS:voyager; do
        name=${spec%%:*} san=${spec#*:}
        openssl req -newkey rsa:2048 -nodes -subj "/CN=${san#*:}" -keyout "$C/$name.key" -out "$C/$name.csr" || return 1
        printf 'subjectAltName=%s\n' "$san" >"$C/$name.ext"
        openssl x509 -req -in "$C/$name.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -days 2 \
            -extfile "$C/$name.ext" -out "$C/$name.pem" || return 1
    done
    # two CRLs of the CA: one empty, one revoking the server's certificate
    cat >"$C/ca.cnf" <<CNF
[ ca ]
default_ca = ca_here
[ ca_here ]
database = $C/index.txt
crlnumber = $C/crlnumber
default_md = sha256
default_crl_days = 2
CNF
    : >"$C/index.txt"
    echo 01 >"$C/crlnumber"
    openssl ca -config "$C/ca.cnf" -keyfile "$C/ca.key" -cert "$C/ca.pem" -gencrl -out "$C/crl-empty.pem" || return 1
    openssl ca -config "$C/ca.cnf" -keyfile "$C/ca.key" -cert "$C/ca.pem" -revoke "$C/server.pem" || return 1
    openssl ca -config "$C/ca.cnf" -keyfile "$C/ca.key" -cert "$C/ca.pem" -gencrl -out "$C/crl-revoked.pem" || return 1
    chmod 644 "$C"/*
}
make_certs >"$C/openssl.log" 2>&1 || { not_ok "make the certificates" "$(tail -5 "$C/openssl.log")"; done_testing; exit 1; }
ok "a CA, server and client certificates and CRLs made with openssl"

tls_opts() { echo "--ssl-ca=$C/ca.pem --ssl-cert=$C/$1.pem --ssl-key=$C/$1.key"; }
MARIADB_EXTRA_OPTS=$(tls_opts server) mariadb_start tls tdb || { not_ok "start mariadbd with TLS"; done_testing; exit 1; }
MARIADB_EXTRA_OPTS=$(tls_opts wrong-name) mariadb_start wrongname tdb || { not_ok "start mariadbd (wrong name)"; done_testing; exit 1; }
mariadb_start plain tdb || { not_ok "start mariadbd without TLS"; done_testing; exit 1; }
assert_eq "the TLS server has TLS" "have_ssl	YES" "$(mysql_as tls tdb -e "SHOW GLOBAL VARIABLES LIKE 'have_ssl'")"
assert_eq "the plain server has none" "have_ssl	DISABLED" "$(mysql_as plain tdb -e "SHOW GLOBAL VARIABLES LIKE 'have_ssl'")"

# Accounts that log in only over TLS, and only with the client certificate (the password is voyager's).
pwlit=${VOYAGER_PW//\\/\\\\}
pwlit=${pwlit//\'/\'\'}
for s in tls wrongname plain; do
    mysql_as "$s" tdb <<SQL || not_ok "set up $s"
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20));
INSERT INTO t VALUES (1, 'one');
CREATE USER 'tlsonly'@'127.0.0.1' IDENTIFIED BY '$pwlit' REQUIRE SSL;
CREATE USER 'certonly'@'127.0.0.1' IDENTIFIED BY '$pwlit' REQUIRE SUBJECT '/CN=voyager';
GRANT SELECT, SHOW VIEW, LOCK TABLES, TRIGGER, EVENT, EXECUTE ON tdb.* TO 'tlsonly'@'127.0.0.1', 'certonly'@'127.0.0.1';
GRANT RELOAD, REPLICATION CLIENT ON *.* TO 'tlsonly'@'127.0.0.1', 'certonly'@'127.0.0.1';
SQL
done

# schema SERVER USER [flags...]: export schema of tdb (a fresh export dir) as USER
schema() {
    local s=$1 user=$2 port
    shift 2
    port=$(eval "echo \${$(echo "$s" | tr 'a-z' 'A-Z')_PORT}")
    "$V" export schema -e "$(new_export_dir)" --source-db-type mysql --source-db-host 127.0.0.1 \
        --source-db-port "$port" --source-db-user "$user" --source-db-name tdb "$@"
}
handshakes() { mysql_as "$1" tdb --skip-ssl -e "SHOW GLOBAL STATUS LIKE 'Ssl_finished_accepts'" | cut -f2; }

# ---- prefer (the default), allow: TLS when the server offers it ----
h0=$(handshakes tls)
check "prefer (the default): an account REQUIRE SSL logs in" schema tls tlsonly
h1=$(handshakes tls)
[ "$h1" -gt "$h0" ] && ok "prefer: the server counted TLS handshakes ($h0 -> $h1)" || not_ok "prefer: the server counted TLS handshakes ($h0 -> $h1)"
check "--source-ssl-mode prefer: the same" schema tls tlsonly --source-ssl-mode prefer
check "--source-ssl-mode allow: the same (allow is prefer for MySQL)" schema tls tlsonly --source-ssl-mode allow
check "prefer with the client certificate and key: an account REQUIRE SUBJECT logs in" \
    schema tls certonly --source-ssl-cert "$C/client.pem" --source-ssl-key "$C/client.key"
expect_fail "prefer without the client certificate: that account is refused" 4 "[Aa]ccess denied" schema tls certonly
check "prefer with the right root cert: TLS, chain checked" schema tls tlsonly --source-ssl-root-cert "$C/ca.pem"
expect_fail "prefer with a root cert that refuses the server: plain text, which REQUIRE SSL refuses" 4 \
    "TLS failed \(.*\); connecting without TLS, as --source-ssl-mode prefer allows" \
    schema tls tlsonly --source-ssl-root-cert "$C/other-ca.pem"
check "prefer with a root cert that refuses the server: a plain account still connects" \
    schema tls voyager --source-ssl-root-cert "$C/other-ca.pem"
assert_match "... and the warning says so" "warning: .*TLS failed .*connecting without TLS.*
hint: --source-ssl-mode require or verify-\* refuses a connection without TLS" "$(cat "$LAST_ERR")"
check "prefer against a server without TLS: plain text" schema plain voyager
check "allow against a server without TLS: plain text" schema plain voyager --source-ssl-mode allow

# ---- disable: never TLS ----
h0=$(handshakes tls)
check "disable: a plain account connects" schema tls voyager --source-ssl-mode disable
assert_eq "disable: no TLS handshake on the server" "$h0" "$(handshakes tls)"
expect_fail "disable: an account REQUIRE SSL is refused" 4 "[Aa]ccess denied" schema tls tlsonly --source-ssl-mode disable
expect_refusal "disable with a client certificate: refused, not ignored" 4 \
    "--source-ssl-cert is not used with --source-ssl-mode disable \(no TLS\) hint: remove --source-ssl-cert" \
    schema tls voyager --source-ssl-mode disable --source-ssl-cert "$C/client.pem"

# ---- require: TLS or no connection ----
check "require: an account REQUIRE SSL logs in" schema tls tlsonly --source-ssl-mode require
expect_refusal "require against a server without TLS: refused" 4 \
    "source database \(MySQL at 127.0.0.1:$PLAIN_PORT, user \"voyager\"\): the server offers no TLS, which --source-ssl-mode require requires hint: enable TLS on the server" \
    schema plain voyager --source-ssl-mode require
expect_fail "verify-full against a server without TLS: refused" 4 "does not support|offers no TLS" \
    schema plain voyager --source-ssl-mode verify-full --source-ssl-root-cert "$C/ca.pem"

# ---- verify-ca: the chain, not the host name; verify-full: both ----
check "verify-ca: a certificate for another host name, from the CA given: accepted" \
    schema wrongname tlsonly --source-ssl-mode verify-ca --source-ssl-root-cert "$C/ca.pem"
expect_fail "verify-full: the same certificate is refused (host name)" 4 "[Vv]alidation of SSL server certificate failed" \
    schema wrongname tlsonly --source-ssl-mode verify-full --source-ssl-root-cert "$C/ca.pem"
expect_fail "verify-ca: a certificate from another CA is refused" 4 "certificate" \
    schema tls tlsonly --source-ssl-mode verify-ca --source-ssl-root-cert "$C/other-ca.pem"
check "verify-full: the right CA and host name: accepted" \
    schema tls tlsonly --source-ssl-mode verify-full --source-ssl-root-cert "$C/ca.pem"
expect_refusal "verify-ca without a root cert: refused" 4 \
    "--source-ssl-mode verify-ca checks the server's certificate against --source-ssl-root-cert, which is not given hint: give --source-ssl-root-cert .* or use --source-ssl-mode verify-full" \
    schema tls tlsonly --source-ssl-mode verify-ca

# ---- --source-ssl-crl ----
check "require + root cert + a CRL revoking nothing: accepted" \
    schema tls tlsonly --source-ssl-mode require --source-ssl-root-cert "$C/ca.pem" --source-ssl-crl "$C/crl-empty.pem"
expect_fail "require + root cert + a CRL revoking the server's certificate: refused" 4 "revoked" \
    schema tls tlsonly --source-ssl-mode require --source-ssl-root-cert "$C/ca.pem" --source-ssl-crl "$C/crl-revoked.pem"
expect_refusal "a CRL where no chain is checked (prefer, no root cert): refused" 4 \
    "--source-ssl-crl is used only when the server's certificate is checked.* hint: give --source-ssl-root-cert too, or use --source-ssl-mode verify-full" \
    schema tls tlsonly --source-ssl-crl "$C/crl-revoked.pem"

# ---- the binlog reader and the other connections over TLS (prefer) ----
h0=$(handshakes tls)
mariadb_unit_tests tls test_mysql_binlog 8
h1=$(handshakes tls)
[ "$h1" -gt "$h0" ] && ok "the binlog unit tests connected over TLS ($h0 -> $h1 handshakes)" ||
    not_ok "the binlog unit tests connected over TLS ($h0 -> $h1 handshakes)"
done_testing
