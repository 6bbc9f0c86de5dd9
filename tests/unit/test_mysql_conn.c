/* source/mysql/mysql_conn: quoting, error messages and the TLS plan offline; connecting and querying live. */
#include "testlib.h"
#include "test_mysql_live.h"

#include "core/util.h"
#include "source/mysql/mysql_conn.h"

#include <arpa/inet.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TEST(mysql_quote_ident_doubles_backticks)
{
    char *a = mysql_quote_ident("plain");
    char *b = mysql_quote_ident("we`ird``name");
    char *c = mysql_quote_ident("");
    char *d = mysql_quote_qualified("my db", "t`1");
    CHECK_STR_EQ(a, "`plain`");
    CHECK_STR_EQ(b, "`we``ird````name`");
    CHECK_STR_EQ(c, "``");
    CHECK_STR_EQ(d, "`my db`.`t``1`");
    free(a);
    free(b);
    free(c);
    free(d);
}

static db_conf offline_conf(void)
{
    db_conf c = {0};
    c.role = DB_SOURCE;
    c.host = (char *)"db.example";
    c.port = 3307;
    c.user = (char *)"app";
    c.password = (char *)"secret";
    c.name = (char *)"shop";
    return c;
}

/* --source-ssl-mode and the files: what Connector/C is asked for, and what is refused. */
TEST(mysql_tls_plan_by_mode)
{
    struct {
        const char *mode, *root, *crl, *cert;
        bool ok, tls, required, verify_host, plain_retry;
        const char *why, *hint; /* in the refusal */
    } cases[] = {
        /* prefer is the default: TLS when offered, plain otherwise or after a failed handshake */
        {NULL, NULL, NULL, NULL, true, true, false, false, true, NULL, NULL},
        {"", NULL, NULL, NULL, true, true, false, false, true, NULL, NULL},
        {"prefer", "/ca.pem", "/crl.pem", "/c.pem", true, true, false, false, true, NULL, NULL},
        {"allow", NULL, NULL, "/c.pem", true, true, false, false, true, NULL, NULL},
        {"disable", NULL, NULL, NULL, true, false, false, false, false, NULL, NULL},
        {"disable", "", "", "", true, false, false, false, false, NULL, NULL},
        {"disable", NULL, NULL, "/c.pem", false, false, false, false, false,
         "--source-ssl-cert is not used with --source-ssl-mode disable (no TLS)", "remove --source-ssl-cert"},
        {"disable", "/ca.pem", NULL, NULL, false, false, false, false, false,
         "--source-ssl-root-cert is not used with --source-ssl-mode disable", "remove --source-ssl-root-cert"},
        {"require", NULL, NULL, NULL, true, true, true, false, false, NULL, NULL},
        {"verify-ca", "/ca.pem", "/crl.pem", NULL, true, true, true, false, false, NULL, NULL},
        {"verify-ca", NULL, NULL, NULL, false, false, false, false, false,
         "--source-ssl-mode verify-ca checks the server's certificate against --source-ssl-root-cert, "
         "which is not given",
         "use --source-ssl-mode verify-full"},
        {"verify-full", NULL, "/crl.pem", NULL, true, true, true, true, false, NULL, NULL},
        {"require", NULL, "/crl.pem", NULL, false, false, false, false, false,
         "--source-ssl-crl is used only when the server's certificate is checked",
         "give --source-ssl-root-cert too, or use --source-ssl-mode verify-full"},
        {"prefer", NULL, "/crl.pem", NULL, false, false, false, false, false,
         "--source-ssl-mode prefer without --source-ssl-root-cert does not do", NULL},
        {"verify_full", NULL, NULL, NULL, false, false, false, false, false,
         "unknown --source-ssl-mode \"verify_full\"", "verify-full"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        db_conf c = offline_conf();
        c.ssl_mode = (char *)cases[i].mode;
        c.ssl_root_cert = (char *)cases[i].root;
        c.ssl_crl = (char *)cases[i].crl;
        c.ssl_cert = (char *)cases[i].cert;
        mysql_tls_plan p;
        char *why = NULL, *hint = NULL;
        bool ok = mysql_tls_plan_of(&c, &p, &why, &hint);
        CHECK(ok == cases[i].ok);
        if (ok) {
            CHECK(why == NULL && hint == NULL);
            CHECK(p.tls == cases[i].tls);
            CHECK(p.required == cases[i].required);
            CHECK(p.verify_host == cases[i].verify_host);
            CHECK(p.plain_retry == cases[i].plain_retry);
        } else {
            CHECK(why && strstr(why, cases[i].why));
            CHECK(hint && (!cases[i].hint || strstr(hint, cases[i].hint)));
        }
        if (!ok || why)
            printf("#   %s: %s / %s\n", cases[i].mode ? cases[i].mode : "(default)", why ? why : "", hint ? hint : "");
        free(why);
        free(hint);
    }
}

/* compare data --statement-timeout on a MySQL session: which setting, in which unit, from which version. */
TEST(mysql_statement_timeout_by_server)
{
    char *a = mysql_statement_timeout_sql(true, 101119, 30);
    char *b = mysql_statement_timeout_sql(true, 100101, 0);
    char *c = mysql_statement_timeout_sql(false, 80036, 30);
    char *d = mysql_statement_timeout_sql(false, 50708, 4000000);
    CHECK_STR_EQ(a, "SET SESSION max_statement_time = 30");
    CHECK_STR_EQ(b, "SET SESSION max_statement_time = 0");
    CHECK_STR_EQ(c, "SET SESSION max_execution_time = 30000");
    CHECK_STR_EQ(d, "SET SESSION max_execution_time = 4000000000");
    CHECK(mysql_statement_timeout_sql(true, 100038, 30) == NULL);  /* MariaDB 10.0 */
    CHECK(mysql_statement_timeout_sql(false, 50707, 30) == NULL);  /* MySQL 5.7.7 */
    CHECK(mysql_errno_statement_timeout(ER_STATEMENT_TIMEOUT));      /* MariaDB 1969 */
    CHECK(mysql_errno_statement_timeout(3024));                      /* MySQL ER_QUERY_TIMEOUT */
    CHECK(!mysql_errno_statement_timeout(ER_LOCK_WAIT_TIMEOUT));
    free(a);
    free(b);
    free(c);
    free(d);
}

/* Every message names where and who; its hint the flag or statement that fixes it. */
TEST(mysql_connect_error_messages)
{
    db_conf c = offline_conf();
    struct {
        unsigned int err;
        const char *want[2]; /* in the message */
        const char *hint;    /* in the hint; NULL: no hint */
    } cases[] = {
        {ER_ACCESS_DENIED_ERROR, {"db.example:3307", "access denied for user \"app\""},
         "check --source-db-user and the password (--source-db-password or SOURCE_DB_PASSWORD)"},
        {ER_BAD_DB_ERROR, {"db.example:3307", "unknown database \"shop\""}, "check --source-db-name"},
        {ER_DBACCESS_DENIED_ERROR, {"db.example:3307", "user \"app\" may not use database \"shop\""},
         "check --source-db-name, or GRANT SELECT ON `shop`.* TO the user"},
        {CR_CONN_HOST_ERROR, {"db.example:3307", "user \"app\"): cannot connect (the server said)"},
         "check --source-db-host and --source-db-port and that the server is running"},
        {CR_CONNECTION_ERROR, {"db.example:3307", "user \"app\"): cannot connect"},
         "check --source-db-host and --source-db-port and that the server is running"},
        {CR_UNKNOWN_HOST, {"db.example:3307", "unknown host"}, "check --source-db-host"},
        {CR_SERVER_LOST, {"db.example:3307", "the connection was lost or timed out"},
         "check --source-db-host, --source-db-port and the network"},
        {ER_CON_COUNT_ERROR, {"db.example:3307", "too many connections"},
         "raise the server's max_connections or lower --parallel-jobs"},
        {CR_SSL_CONNECTION_ERROR, {"db.example:3307", "user \"app\"): the server said"},
         "check the --source-ssl-* flags"},
        {CR_AUTH_PLUGIN_CANNOT_LOAD, {"db.example:3307", "user \"app\"): the server said"},
         "use an account with mysql_native_password"},
        {ER_HOST_NOT_PRIVILEGED, {"db.example:3307", "this host may not connect as user \"app\""},
         "create the account for the host voyager connects from (CREATE USER 'app'@'<host>')"},
        {9999, {"db.example:3307", "user \"app\"): cannot connect: the server said (error 9999)"}, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *hint = (char *)"unset";
        char *m = mysql_conn_describe_connect_error(&c, cases[i].err, "the server said\nsecond line", &hint);
        bool good = true;
        for (int k = 0; k < 2; k++)
            good = good && strstr(m, cases[i].want[k]) != NULL;
        /* the advice is on its own line, not glued onto the message */
        good = good && !strstr(m, "; check") && !strstr(m, "; use") && !strstr(m, "; give") &&
               !strstr(m, "; create") && !strstr(m, "; raise") && !strstr(m, "--source-db-");
        good = good && (cases[i].hint ? hint && strstr(hint, cases[i].hint) == hint : hint == NULL);
        if (!good)
            test_fail(__FILE__, __LINE__, "error %u: got \"%s\", hint \"%s\"", cases[i].err, m,
                      hint ? hint : "(null)");
        CHECK(strchr(m, '\n') == NULL);
        CHECK(!hint || strchr(hint, '\n') == NULL);
        CHECK(strstr(m, "secret") == NULL);
        CHECK(!hint || strstr(hint, "secret") == NULL);
        free(m);
        free(hint);
    }
    c.password = NULL;
    char *hint = NULL;
    char *m = mysql_conn_describe_connect_error(&c, ER_ACCESS_DENIED_ERROR, "Access denied", &hint);
    CHECK(strstr(m, "user \"app\" was refused without a password") != NULL);
    CHECK_STR_EQ(hint, "give --source-db-password or set SOURCE_DB_PASSWORD");
    free(m);
    free(hint);
    c.role = DB_SOURCE_REPLICA;
    c.host = (char *)"/run/mysqld/mysqld.sock";
    m = mysql_conn_describe_connect_error(&c, CR_CONNECTION_ERROR, "Can't connect", &hint);
    CHECK(strstr(m, "source-replica database (MySQL at /run/mysqld/mysqld.sock") != NULL);
    CHECK_STR_EQ(hint, "check --source-replica-db-host and --source-replica-db-port and that the "
                       "server is running");
    free(m);
    free(hint);
    /* without a place for the hint, only the message */
    m = mysql_conn_describe_connect_error(&c, ER_BAD_DB_ERROR, "Unknown database", NULL);
    CHECK(strstr(m, "unknown database \"shop\"") != NULL);
    free(m);
}

/* What export data starts its run again for (control_lost), and what stays a refusal. */
TEST(mysql_errno_lost_and_transient)
{
    static const unsigned int lost[] = {CR_SERVER_LOST, CR_SERVER_GONE_ERROR, CR_CONNECTION_ERROR,
                                        CR_CONN_HOST_ERROR, ER_CONNECTION_KILLED, ER_SERVER_SHUTDOWN,
                                        ER_NET_READ_ERROR, ER_NET_ERROR_ON_WRITE};
    static const unsigned int busy[] = {ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT, ER_CON_COUNT_ERROR};
    static const unsigned int refused[] = {0, ER_ACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR,
                                           ER_DBACCESS_DENIED_ERROR, ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE,
                                           ER_PARSE_ERROR, CR_UNKNOWN_HOST, CR_SSL_CONNECTION_ERROR};
    for (size_t i = 0; i < ARRAY_LEN(lost); i++) {
        CHECK(mysql_errno_lost(lost[i]));
        CHECK(mysql_errno_transient(lost[i]));
    }
    for (size_t i = 0; i < ARRAY_LEN(busy); i++) {
        CHECK(!mysql_errno_lost(busy[i]));
        CHECK(mysql_errno_transient(busy[i]));
    }
    for (size_t i = 0; i < ARRAY_LEN(refused); i++) {
        CHECK(!mysql_errno_lost(refused[i]));
        CHECK(!mysql_errno_transient(refused[i]));
    }
}

TEST(mysql_rows_accessors_on_empty)
{
    mysql_rows r = MYSQL_ROWS_INIT;
    CHECK(mysql_rows_get(&r, 0, 0) == NULL);
    CHECK_INT_EQ(mysql_rows_col(&r, "x"), -1);
    mysql_rows_free(&r);
}

/* ---- live: a MariaDB server from tests/integration/test_mysql_*.sh ---- */

TEST(mysql_server_connect_and_session)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    CHECK(c != NULL);
    bool ok = c->is_mariadb && c->server_version_num >= 100000;
    mysql_rows r;
    bool q = mysql_conn_query(c, "SELECT @@character_set_client, @@character_set_results, @@time_zone, DATABASE()",
                              0, NULL, &r);
    bool session = q && r.nrows == 1 && str_eq(mysql_rows_get(&r, 0, 0), "utf8mb4") &&
                   str_eq(mysql_rows_get(&r, 0, 1), "utf8mb4") && str_eq(mysql_rows_get(&r, 0, 2), "+00:00") &&
                   str_eq(mysql_rows_get(&r, 0, 3), conf.name);
    mysql_rows_free(&r);
    mysql_conn_close(c);
    CHECK(ok);
    CHECK(session);
}

TEST(mysql_server_wrong_password)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_conf();
    conf.password = (char *)"not the password";
    char *why = NULL, *hint = NULL;
    mysql_conn_options o = {.quiet = true, .why = &why, .hint = &hint};
    mysql_conn *c = mysql_conn_open(&conf, &o);
    CHECK(c == NULL);
    char *where = xasprintf("127.0.0.1:%d", conf.port);
    bool named = why && strstr(why, where) && strstr(why, "access denied for user \"voyager\"") &&
                 !strstr(why, "not the password") && hint &&
                 str_eq(hint, "check --source-db-user and the password (--source-db-password or "
                              "SOURCE_DB_PASSWORD)");
    if (!named)
        printf("#   got: %s / hint: %s\n", why ? why : "(null)", hint ? hint : "(null)");
    free(where);
    free(why);
    free(hint);
    CHECK(named);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd); /* bound, never listened: connections are refused */
    return ntohs(a.sin_port);
}

TEST(mysql_server_unreachable)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_conf();
    conf.port = closed_port();
    char *why = NULL, *hint = NULL;
    mysql_conn_options o = {.quiet = true, .why = &why, .hint = &hint, .connect_timeout = 3};
    mysql_conn *c = mysql_conn_open(&conf, &o);
    CHECK(c == NULL);
    char *where = xasprintf("127.0.0.1:%d", conf.port);
    bool named = why && strstr(why, where) && strstr(why, "cannot connect") && hint &&
                 str_eq(hint, "check --source-db-host and --source-db-port and that the server is running");
    if (!named)
        printf("#   got: %s / hint: %s\n", why ? why : "(null)", hint ? hint : "(null)");
    free(where);
    free(why);
    free(hint);
    CHECK(named);
}

TEST(mysql_server_unknown_database)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_root_conf();
    conf.name = (char *)"no_such_db";
    char *why = NULL, *hint = NULL;
    mysql_conn_options o = {.quiet = true, .why = &why, .hint = &hint};
    mysql_conn *c = mysql_conn_open(&conf, &o);
    CHECK(c == NULL);
    bool named = why && strstr(why, "unknown database \"no_such_db\"") && hint &&
                 str_eq(hint, "check --source-db-name");
    if (!named)
        printf("#   got: %s / hint: %s\n", why ? why : "(null)", hint ? hint : "(null)");
    free(why);
    free(hint);
    CHECK(named);
    /* voyager may not even see it: the server says "access denied to database" */
    conf = mysql_live_conf();
    conf.name = (char *)"no_such_db";
    c = mysql_conn_open(&conf, &o);
    CHECK(c == NULL);
    named = why && strstr(why, "\"no_such_db\"") && hint && strstr(hint, "check --source-db-name") == hint;
    if (!named)
        printf("#   got: %s / hint: %s\n", why ? why : "(null)", hint ? hint : "(null)");
    free(why);
    free(hint);
    CHECK(named);
}

TEST(mysql_server_query_params_and_bytes)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    CHECK(c != NULL);
    const char *params[] = {"it's `odd` \"quoted\" \xF0\x9F\x98\x80", NULL, "42"};
    mysql_rows r;
    bool q = mysql_conn_query(c, "SELECT ?, ? IS NULL, ? + 1, X'00410042', NULL, CHAR_LENGTH(?)", 4,
                              (const char *[]){params[0], params[1], params[2], params[0]}, &r);
    bool ok = q && r.nrows == 1 && r.ncols == 6 && str_eq(mysql_rows_get(&r, 0, 0), params[0]) &&
              str_eq(mysql_rows_get(&r, 0, 1), "1") && str_eq(mysql_rows_get(&r, 0, 2), "43") &&
              r.lengths[3] == 4 && memcmp(mysql_rows_get(&r, 0, 3), "\0A\0B", 4) == 0 &&
              mysql_rows_get(&r, 0, 4) == NULL && str_eq(mysql_rows_get(&r, 0, 5), "21");
    if (!ok)
        for (size_t i = 0; i < r.ncols && r.nrows == 1; i++)
            printf("#   column %zu: %lu bytes: %s\n", i, r.lengths[i],
                   mysql_rows_get(&r, 0, i) ? mysql_rows_get(&r, 0, i) : "NULL");
    mysql_rows_free(&r);
    /* a value longer than the first fetch's buffer */
    q = mysql_conn_query(c, "SELECT REPEAT(?, 1000), 'short'", 1, (const char *[]){"ab"}, &r);
    bool long_ok = q && r.nrows == 1 && r.lengths[0] == 2000 && strlen(mysql_rows_get(&r, 0, 0)) == 2000 &&
                   strncmp(mysql_rows_get(&r, 0, 0) + 1996, "abab", 5) == 0 && str_eq(mysql_rows_get(&r, 0, 1), "short");
    mysql_rows_free(&r);
    /* the text protocol keeps bytes too */
    q = mysql_conn_query(c, "SELECT X'00410042' AS b, NULL AS n", 0, NULL, &r);
    bool text_ok = q && r.nrows == 1 && r.lengths[0] == 4 && memcmp(mysql_rows_get(&r, 0, 0), "\0A\0B", 4) == 0 &&
                   mysql_rows_get(&r, 0, 1) == NULL && mysql_rows_col(&r, "n") == 1;
    mysql_rows_free(&r);
    /* an error sets errno and sqlstate, and the connection stays usable */
    bool failed = !mysql_conn_query_quiet(c, "SELECT * FROM no_such_table", 0, NULL, &r);
    mysql_rows_free(&r);
    bool err_noted = c->last_errno == ER_NO_SUCH_TABLE && str_eq(c->sqlstate, "42S02");
    bool found = false;
    char *v = mysql_conn_query_value(c, "SELECT CONCAT('a', ?)", 1, (const char *[]){"b"}, &found);
    bool value_ok = found && str_eq(v, "ab") && c->last_errno == 0;
    free(v);
    mysql_conn_close(c);
    CHECK(ok);
    CHECK(long_ok);
    CHECK(text_ok);
    CHECK(failed);
    CHECK(err_noted);
    CHECK(value_ok);
}

/* A name with backticks, spaces and quotes, created and read back through mysql_quote_ident. */
TEST(mysql_server_quoted_names)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_root_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    CHECK(c != NULL);
    const char *name = "we`ird \"name\" 'x'";
    char *q = mysql_quote_ident(name);
    char *create = xasprintf("CREATE TABLE %s (%s int PRIMARY KEY)", q, q);
    char *ins = xasprintf("INSERT INTO %s VALUES (7)", q);
    char *sel = xasprintf("SELECT %s FROM %s", q, q);
    char *drop = xasprintf("DROP TABLE %s", q);
    bool ok = mysql_conn_exec(c, create) && mysql_conn_exec(c, ins);
    bool found = false;
    char *v = ok ? mysql_conn_query_value(c, sel, 0, NULL, &found) : NULL;
    bool listed = false;
    mysql_rows r;
    if (mysql_conn_query(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                         2, (const char *[]){conf.name, name}, &r))
        listed = r.nrows == 1;
    mysql_rows_free(&r);
    bool dropped = mysql_conn_exec(c, drop);
    free(q);
    free(create);
    free(ins);
    free(sel);
    free(drop);
    mysql_conn_close(c);
    CHECK(ok);
    CHECK(str_eq(v, "7"));
    free(v);
    CHECK(listed);
    CHECK(dropped);
}
