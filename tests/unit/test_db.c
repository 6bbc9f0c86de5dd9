/* Pure parts of the database layer: quoting, error classification, messages, conf. */
#include "testlib.h"

#include "db/dbconf.h"
#include "db/pgconn.h"
#include "core/util.h"

#include <stdlib.h>

TEST(db_quote_ident_always_quotes_and_doubles)
{
    char *a = pg_quote_ident("Order");
    CHECK_STR_EQ(a, "\"Order\"");
    char *b = pg_quote_ident("we\"ird");
    CHECK_STR_EQ(b, "\"we\"\"ird\"");
    char *c = pg_quote_qualified("public", "user");
    CHECK_STR_EQ(c, "\"public\".\"user\"");
    free(a);
    free(b);
    free(c);
}

TEST(db_quote_literal_escapes)
{
    char *a = pg_quote_literal("it's");
    CHECK_STR_EQ(a, "'it''s'");
    char *b = pg_quote_literal("a\\b");
    CHECK_STR_EQ(b, "E'a\\\\b'");
    free(a);
    free(b);
}

TEST(db_error_classification)
{
    CHECK(pg_error_is_retryable("40001", "could not serialize access", false));
    CHECK(pg_error_is_retryable("40P01", "deadlock detected", false));
    CHECK(pg_error_is_retryable("08006", "connection failure", false));
    CHECK(pg_error_is_retryable("57P01", "terminating connection", false));
    CHECK(pg_error_is_retryable("", "", true)); /* connection lost */
    CHECK(pg_error_is_retryable("XX000", "Restart read required at: ...", false));
    CHECK(pg_error_is_retryable("XX000", "Timed out: Perform RPC", false));
    CHECK(pg_error_is_retryable("XX000", "schema version mismatch for table 0000: expected 1, got 0", false));
    CHECK(pg_error_is_retryable("XX000", "Operation failed. Try again: Transaction a conflicts with "
                                         "higher priority transaction: b", false));
    /* upstream's RPC_MSG_LIMIT_ERROR: the same batch fails again, whatever the wait */
    CHECK(!pg_error_is_retryable("XX000", "Sending too long RPC message (10 bytes of data), limit: 5 bytes", false));
    CHECK(!pg_error_is_retryable("XX000", "some internal bug", false));
    CHECK(!pg_error_is_retryable("23505", "duplicate key value", false));
    CHECK(!pg_error_is_retryable("42P01", "relation does not exist", false));
    CHECK(!pg_error_is_retryable(NULL, NULL, false));
}

TEST(db_connect_error_messages_name_the_fix)
{
    db_conf c = {0};
    c.role = DB_SOURCE;
    c.host = "db.example";
    c.port = 5432;
    c.user = "alice";
    char *hint = NULL;
    char *m = pgconn_describe_connect_error(
        &c,
        "connection to server at \"db.example\" (1.2.3.4), port 5432 failed: FATAL:  password "
        "authentication failed for user \"alice\"\n",
        &hint);
    CHECK(strstr(m, "password authentication failed") && strstr(m, "\"alice\""));
    CHECK(hint && strstr(hint, "SOURCE_DB_PASSWORD") && strstr(hint, "--source-db-password") &&
          strstr(hint, "--source-db-user"));
    CHECK(strstr(m, "check") == NULL); /* the advice is the hint's, not glued on */
    free(m);
    free(hint);
    m = pgconn_describe_connect_error(&c, "fe_sendauth: no password supplied\n", &hint);
    CHECK(strstr(m, "source database wants a password") && strstr(m, "--source") == NULL);
    CHECK_STR_EQ(hint, "give --source-db-password or set SOURCE_DB_PASSWORD");
    free(m);
    free(hint);
    c.role = DB_TARGET;
    m = pgconn_describe_connect_error(&c,
                                      "connection to server at \"db.example\", port 5432 "
                                      "failed: Connection refused\n\tIs the server running",
                                      &hint);
    CHECK(strstr(m, "connection refused") && strstr(m, "db.example:5432"));
    CHECK(hint && strstr(hint, "--target-db-port") && strstr(hint, "--target-db-host"));
    CHECK(strstr(m, "--target") == NULL);
    free(m);
    free(hint);
    m = pgconn_describe_connect_error(&c, "FATAL:  database \"nope\" does not exist\n", &hint);
    CHECK(strstr(m, "\"nope\"") && strstr(m, "--target") == NULL);
    CHECK_STR_EQ(hint, "check --target-db-name");
    free(m);
    free(hint);
    c.role = DB_SOURCE_REPLICA;
    m = pgconn_describe_connect_error(&c,
                                      "could not translate host name \"db.example\" to "
                                      "address: Name or service not known\n",
                                      &hint);
    CHECK(strstr(m, "unknown host") && strstr(m, "--source-replica") == NULL);
    CHECK_STR_EQ(hint, "check --source-replica-db-host");
    free(m);
    free(hint);
    /* nothing to suggest: no hint; the message stays one line */
    m = pgconn_describe_connect_error(&c, "weird\nsecond line", &hint);
    CHECK(strchr(m, '\n') == NULL && hint == NULL);
    free(m);
    /* a caller that wants no hint */
    m = pgconn_describe_connect_error(&c, "FATAL:  role \"x\" does not exist\n", NULL);
    CHECK(strstr(m, "role \"x\" does not exist"));
    free(m);
}

TEST(pgconn_startup_options_pin_value_settings_after_pgoptions)
{
    char *o = pgconn_startup_options(NULL);
    CHECK_STR_EQ(o, "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC "
                    "-c extra_float_digits=3 -c lc_monetary=C");
    free(o);
    o = pgconn_startup_options("");
    CHECK(str_starts_with(o, "-c DateStyle=ISO,YMD "));
    free(o);
    /* the user's PGOPTIONS stay, but a DateStyle of theirs is overridden (the last -c wins) */
    o = pgconn_startup_options("-c statement_timeout=5s -c DateStyle=SQL,DMY");
    CHECK(str_starts_with(o, "-c statement_timeout=5s -c DateStyle=SQL,DMY -c DateStyle=ISO,YMD "));
    free(o);
}

TEST(db_conf_json_round_trip_has_no_password)
{
    db_conf c = {0};
    c.role = DB_SOURCE;
    c.type = xstrdup("postgresql");
    c.host = xstrdup("h");
    c.port = 6000;
    c.user = xstrdup("u");
    c.password = xstrdup("secret");
    c.name = xstrdup("db");
    c.schema = xstrdup("public,sales");
    c.ssl_mode = xstrdup("verify-full");
    c.ssl_root_cert = xstrdup("/ca.pem");
    cJSON *j = db_conf_to_json(&c);
    char *txt = cJSON_PrintUnformatted(j);
    CHECK(strstr(txt, "secret") == NULL);
    db_conf d;
    db_conf_from_json(&d, j, DB_SOURCE);
    CHECK_STR_EQ(d.host, "h");
    CHECK_INT_EQ(d.port, 6000);
    CHECK_STR_EQ(d.schema, "public,sales");
    CHECK_STR_EQ(d.ssl_root_cert, "/ca.pem");
    CHECK(d.password == NULL);
    free(txt);
    cJSON_Delete(j);
    db_conf_free(&c);
    db_conf_free(&d);
}

TEST(db_child_env_carries_password_and_ssl)
{
    db_conf c = {0};
    c.role = DB_SOURCE;
    c.host = "h";
    c.port = 5432;
    c.password = "p w";
    c.ssl_mode = "require";
    strlist env = STRLIST_INIT;
    db_conf_child_env(&c, &env);
    CHECK(strlist_contains(&env, "PGPASSWORD=p w"));
    CHECK(strlist_contains(&env, "PGSSLMODE=require"));
    CHECK(strlist_contains(&env, "PGPORT=5432"));
    strlist_free(&env);
}
