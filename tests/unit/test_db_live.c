/*
 * The connection layer against a real cluster (started by
 * tests/integration/test_connection.sh, which passes VOYAGER_TEST_PORT,
 * VOYAGER_TEST_SSL_DIR and the password in SOURCE_DB_PASSWORD).
 * Skipped in the plain unit run.
 */
#include "testlib.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"
#include "db/dbconf.h"
#include "db/pgconn.h"

#include <stdlib.h>

static void base_conf(db_conf *c)
{
    memset(c, 0, sizeof *c);
    c->role = DB_SOURCE;
    c->host = xstrdup("127.0.0.1");
    c->port = atoi(getenv("VOYAGER_TEST_PORT"));
    c->user = xstrdup("voyager");
    c->password = xstrdup(getenv("SOURCE_DB_PASSWORD"));
    c->name = xstrdup("postgres");
    c->ssl_mode = xstrdup("disable");
}

static char *ssl_file(const char *name)
{
    return xasprintf("%s/%s", getenv("VOYAGER_TEST_SSL_DIR"), name);
}

static void set(char **field, char *value)
{
    free(*field);
    *field = value;
}

/* Connect expecting failure; returns the error line that was logged (caller frees). */
static char *connect_error(db_conf *c)
{
    char *dir = test_tmpdir();
    char *log = xasprintf("%s/t.log", dir);
    log_set_level(LOG_ERROR);
    log_open_file(log);
    pgconn *conn = pgconn_connect(c, NULL);
    log_close();
    char *text = NULL;
    if (conn) {
        pgconn_close(conn);
        text = xstrdup("(connected)");
    } else if (!fs_read_all(log, &text, NULL)) {
        text = xstrdup("(no log)");
    }
    free(log);
    free(dir);
    return text;
}

TEST(live_connect_detects_postgresql)
{
    db_conf c;
    base_conf(&c);
    pgconn *conn = pgconn_connect(&c, NULL);
    CHECK(conn != NULL);
    CHECK(!conn->is_yugabyte);
    CHECK(conn->server_version_num >= 150000);
    char *v = pgconn_query_value(conn, "SELECT current_setting('application_name')", 0, NULL);
    CHECK_STR_EQ(v, "yb-voyager");
    free(v);
    /* a failing statement records its SQLSTATE and is not retryable */
    CHECK(!pgconn_exec(conn, "SELECT * FROM no_such_table"));
    CHECK_STR_EQ(conn->sqlstate, "42P01");
    CHECK(!conn->last_error_retryable);
    pgconn_close(conn);
    db_conf_free(&c);
}

TEST(live_connect_errors_are_one_line_and_a_hint)
{
    db_conf c;
    base_conf(&c);
    set(&c.password, xstrdup("wrong password"));
    char *e = connect_error(&c);
    CHECK(strstr(e, "password authentication failed for user \"voyager\""));
    CHECK(strstr(e, "hint: check --source-db-user and the password (--source-db-password or "
                    "SOURCE_DB_PASSWORD)"));
    CHECK(strstr(e, "; check") == NULL); /* the advice is on its own line */
    CHECK(strstr(e, "wrong password") == NULL); /* never the password itself */
    free(e);

    set(&c.password, xstrdup(getenv("SOURCE_DB_PASSWORD")));
    int port = c.port;
    c.port = 1; /* nothing listens there */
    e = connect_error(&c);
    CHECK(strstr(e, "connection refused") && strstr(e, "hint: check --source-db-host and --source-db-port"));
    free(e);
    c.port = port;

    set(&c.name, xstrdup("no_such_db"));
    e = connect_error(&c);
    CHECK(strstr(e, "\"no_such_db\" does not exist") && strstr(e, "hint: check --source-db-name"));
    free(e);
    db_conf_free(&c);
}

TEST(live_ssl_flags_reach_libpq)
{
    db_conf c;
    base_conf(&c);
    /* verify-ca with our CA: encrypted */
    set(&c.ssl_mode, xstrdup("verify-ca"));
    set(&c.ssl_root_cert, ssl_file("ca.crt"));
    pgconn *conn = pgconn_connect(&c, NULL);
    CHECK(conn != NULL);
    CHECK(PQsslInUse(conn->pg));
    pgconn_close(conn);

    /* verify-full: the certificate says localhost, we asked for 127.0.0.1 */
    set(&c.ssl_mode, xstrdup("verify-full"));
    char *e = connect_error(&c);
    CHECK(strstr(e, "hint: check the --source-ssl-* flags") != NULL);
    free(e);
    set(&c.host, xstrdup("localhost"));
    conn = pgconn_connect(&c, NULL);
    CHECK(conn != NULL && PQsslInUse(conn->pg));
    pgconn_close(conn);

    /* a missing root certificate is named */
    set(&c.ssl_root_cert, xstrdup("/nonexistent/root.crt"));
    e = connect_error(&c);
    CHECK(strstr(e, "/nonexistent/root.crt") != NULL);
    free(e);

    /* a revocation list that revokes the server's certificate */
    set(&c.ssl_root_cert, ssl_file("ca.crt"));
    set(&c.ssl_crl, ssl_file("revoked.crl"));
    e = connect_error(&c);
    /* the same settings connected above without the CRL */
    CHECK(strstr(e, "certificate verify failed") != NULL &&
          strstr(e, "hint: check the --source-ssl-* flags") != NULL);
    free(e);
    set(&c.ssl_crl, NULL);

    /* client certificate authentication: ssl-cert and ssl-key */
    set(&c.user, xstrdup("certuser"));
    set(&c.password, NULL);
    set(&c.ssl_cert, ssl_file("client.crt"));
    set(&c.ssl_key, ssl_file("client.key"));
    conn = pgconn_connect(&c, NULL);
    CHECK(conn != NULL);
    char *who = conn ? pgconn_query_value(conn, "SELECT current_user", 0, NULL) : NULL;
    CHECK_STR_EQ(who, "certuser");
    free(who);
    pgconn_close(conn);

    /* disable: no SSL */
    db_conf_free(&c);
    base_conf(&c);
    conn = pgconn_connect(&c, NULL);
    CHECK(conn != NULL && !PQsslInUse(conn->pg));
    pgconn_close(conn);
    db_conf_free(&c);
}
