/*
 * For the live MySQL/MariaDB unit tests (named mysql_server_*): the server that
 * tests/integration/test_mysql_schema.sh (and the other test_mysql_*.sh) started, described by
 *   VOYAGER_TEST_MYSQL_PORT      TCP port on 127.0.0.1 (tests skip when unset)
 *   VOYAGER_TEST_MYSQL_DB        the database user "voyager" may read
 *   VOYAGER_TEST_MYSQL_PASSWORD  voyager's password
 *   VOYAGER_TEST_MYSQL_SOCKET    the server's socket, where root logs in without a password
 * tests/unit/main.c runs them only when VOYAGER_TEST_MYSQL_PORT is set; the check below also
 * says so when one is run by name without a server.
 */
#ifndef VOYAGER_TESTS_TEST_MYSQL_LIVE_H
#define VOYAGER_TESTS_TEST_MYSQL_LIVE_H

#include "db/dbconf.h"
#include "source/mysql/mysql_conn.h"

#include <stdio.h>
#include <stdlib.h>

static inline bool mysql_live_available(const char *test)
{
    if (getenv("VOYAGER_TEST_MYSQL_PORT"))
        return true;
    printf("#   %s skipped: no MariaDB server (VOYAGER_TEST_MYSQL_PORT unset; "
           "tests/integration/test_mysql_*.sh run it)\n", test);
    return false;
}

/* voyager over TCP, as the exporter connects. Strings point into the environment. */
static inline db_conf mysql_live_conf(void)
{
    db_conf c = {0};
    c.role = DB_SOURCE;
    c.type = (char *)"mysql";
    c.host = (char *)"127.0.0.1";
    c.port = atoi(getenv("VOYAGER_TEST_MYSQL_PORT"));
    c.user = (char *)"voyager";
    c.password = getenv("VOYAGER_TEST_MYSQL_PASSWORD");
    c.name = getenv("VOYAGER_TEST_MYSQL_DB");
    return c;
}

/* root over the server's socket: for setting up and changing data. */
static inline db_conf mysql_live_root_conf(void)
{
    db_conf c = mysql_live_conf();
    c.host = getenv("VOYAGER_TEST_MYSQL_SOCKET");
    c.user = (char *)"root";
    c.password = NULL;
    return c;
}

#endif
