#!/bin/bash
# source/mysql/mysql_binlog against a real MariaDB binlog (ROW, FULL images): the
# mysql_server_binlog_* unit tests stream four transactions touching every type family, compare
# the decoded values with the server's own SELECT, check positions and resume from a saved one;
# a two-phase XA transaction stops the stream; TRUNCATE TABLE is handed on as a truncate; a
# column layout changed under the stream stops it, so does a row image without every column.
. "$(dirname "$0")/../lib/harness.sh"
. "$(dirname "$0")/../lib/mariadb.sh"

mariadb_start my sourcedb || { not_ok "start mariadbd"; done_testing; exit 1; }
ok "mariadbd started"
mariadb_unit_tests my test_mysql_binlog 8
done_testing
