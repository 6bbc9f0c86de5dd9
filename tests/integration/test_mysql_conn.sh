#!/bin/bash
# source/mysql/mysql_conn against a real MariaDB server: connecting as the exporter's user over
# TCP, the errors an operator gets (wrong password, nothing listening, unknown database), queries
# with parameters, bytes and quoted names (the mysql_server_*conn* unit tests).
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"

mariadb_start my sourcedb || { not_ok "start mariadbd"; done_testing; exit 1; }
ok "mariadbd started"
mariadb_unit_tests my test_mysql_conn 9
done_testing
