/*
 * The MySQL/MariaDB writer (source/writer.h): sessions over mysql_conn, the tables as the target
 * names them, the change apply's and the snapshot's bookkeeping in the database
 * ybvoyager_metadata, AUTO_INCREMENT at cutover. See mysql_writer_int.h for the files and the
 * memory rules.
 */
#include "source/mysql/mysql_writer_int.h"

#include "db/connect.h"
#include "core/log.h"
#include "source/mysql/mysql_ddl.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const writer_ops writer_mysql_ops;

/* ---- sessions ---- */

void myw_note_failure(my_wsession *s, MYSQL_STMT *st)
{
    const char *msg = "the connection is lost";
    unsigned int e = CR_SERVER_LOST;
    if (st) {
        e = mysql_stmt_errno(st);
        msg = mysql_stmt_error(st);
    } else if (s->c) {
        e = mysql_errno(s->c->my);
        msg = mysql_error(s->c->my);
    }
    s->last_errno = e;
    snprintf(s->last_error, sizeof s->last_error, "%s (MySQL error %u)", msg, e);
    s->last_error[strcspn(s->last_error, "\n")] = '\0';
    if (s->c) {
        s->c->last_errno = e;
    }
    if (mysql_errno_lost(e) || e == CR_COMMANDS_OUT_OF_SYNC)
        s->lost = true;
}

bool myw_exec(my_wsession *s, const char *sql, bool quiet)
{
    if (!s->c || s->lost) {
        s->last_errno = CR_SERVER_LOST;
        snprintf(s->last_error, sizeof s->last_error, "the connection is lost");
        return false;
    }
    if (mysql_real_query(s->c->my, sql, strlen(sql)) != 0) {
        myw_note_failure(s, NULL);
        if (!quiet) {
            log_level lvl = s->c->retries && mysql_errno_transient(s->last_errno) ? LOG_WARN
                                                                                  : LOG_ERROR;
            log_msg(lvl, "%s database (MySQL at %s): %s in: %.200s", db_role_name(s->pub.role),
                    s->c->endpoint, s->last_error, sql);
        }
        return false;
    }
    MYSQL_RES *r = mysql_store_result(s->c->my);
    if (r)
        mysql_free_result(r);
    return true;
}

void myw_rollback(my_wsession *s)
{
    if (s->c && !s->lost && mysql_real_query(s->c->my, "ROLLBACK", 8) != 0 &&
        mysql_errno_lost(mysql_errno(s->c->my)))
        s->lost = true;
}

static void drop_stmt(void *v) { mysql_stmt_close(v); }

void myw_forget_statements(my_wsession *s)
{
    strmap_free(&s->stmts, drop_stmt);
}

static void mtable_free(void *v)
{
    mtable *t = v;
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].target);
    }
    free(t->cols);
    free(t->name);
    free(t->qualified);
    free(t);
}

/*
 * What every session runs in: strict (a value MySQL cannot hold fails instead of being cut or
 * zeroed), 0 stored as 0 in an AUTO_INCREMENT column (it is a value the source had). The
 * server's isolation level stays (READ COMMITTED would fail every write on a server logging
 * statements, binlog_format STATEMENT); a deadlock between channels is retried. utf8mb4 and
 * time_zone '+00:00' are mysql_conn's.
 */
static bool session_settings(my_wsession *s)
{
    if (!myw_exec(s,
                  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,"
                  "NO_AUTO_VALUE_ON_ZERO,ERROR_FOR_DIVISION_BY_ZERO', autocommit = 1",
                  false))
        return false;
    /*
     * Channels and loaders write rows out of the source's global order (a child before its
     * parent), as PostgreSQL's replica role allows there: foreign keys are not checked. MySQL
     * has no way to keep triggers from firing (docs/DECISIONS.md "MySQL writer").
     */
    if ((s->apply || s->loader) && !myw_exec(s, "SET SESSION foreign_key_checks = 0", false))
        return false;
    return true;
}

static mysql_conn *open_quiet(writer *w, char **why, char **hint, unsigned int *err)
{
    mysql_conn_options opt = {.quiet = true, .why = why, .hint = hint, .err = err};
    return mysql_conn_open(w->conf, &opt);
}

static my_wsession *session_of(writer *w, mysql_conn *c)
{
    my_wsession *s = xcalloc(1, sizeof *s);
    s->pub.ops = &writer_mysql_ops;
    s->pub.role = w->conf->role;
    s->pub.impl = s;
    s->w = w;
    s->c = c;
    c->retries = true; /* statements run under the engine's retry policy */
    return s;
}

/* Connect under rs: a server restarting or out of reach is waited for, anything else fails. */
static mysql_conn *connect_retrying(writer *w, retry_state *rs,
                                    const volatile sig_atomic_t *interrupt, bool *gave_up)
{
    *gave_up = false;
    for (;;) {
        char *why = NULL, *hint = NULL;
        unsigned int err = 0;
        mysql_conn *c = open_quiet(w, &why, &hint, &err);
        if (c) {
            free(why);
            free(hint);
            return c;
        }
        bool transient = err && mysql_errno_transient(err);
        if (!transient) {
            log_report(LOG_ERROR, NULL, hint, "%s", why ? why : "cannot connect");
        } else if (!retry_failed(rs) || !retry_backoff(rs, interrupt)) {
            log_report(LOG_ERROR, NULL,
                       "run the same command again once the database is reachable (or raise "
                       RETRY_TIMEOUT_ENV ")",
                       "%s; gave up after %llds", why ? why : "cannot connect",
                       (long long)(retry_elapsed_ms(rs) / 1000));
            *gave_up = true;
        } else {
            log_warn("%s; retrying (attempt %d, giving up after %llds)", why ? why : "cannot connect",
                     rs->attempt, (long long)(rs->policy.deadline_ms / 1000));
            free(why);
            free(hint);
            continue;
        }
        free(why);
        free(hint);
        return NULL;
    }
}

static writer_session *myw_connect(writer *w, retry_state *rs, const volatile sig_atomic_t *interrupt,
                                   bool *gave_up)
{
    mysql_conn *c = connect_retrying(w, rs, interrupt, gave_up);
    if (!c)
        return NULL;
    db_conf_record(w->eng->cat, w->conf, c->server_version, false);
    my_wsession *s = session_of(w, c);
    if (!session_settings(s)) {
        writer_session_close(&s->pub);
        return NULL;
    }
    return &s->pub;
}

static bool myw_discover_nodes(writer *w, writer_session *s, const char *endpoints,
                               bool use_public_ip)
{
    (void)w;
    (void)s;
    (void)use_public_ip;
    if (endpoints && *endpoints) {
        log_error("--target-endpoints applies to a YugabyteDB target, not to a MySQL database");
        return false;
    }
    return true;
}

static size_t myw_node_count(writer *w)
{
    (void)w;
    return 0;
}

static writer_session *myw_connect_channel(writer *w, int idx, retry_state *rs,
                                           const volatile sig_atomic_t *interrupt, bool *gave_up)
{
    (void)idx;
    mysql_conn *c = connect_retrying(w, rs, interrupt, gave_up);
    if (!c)
        return NULL;
    my_wsession *s = session_of(w, c);
    if (!session_settings(s)) {
        writer_session_close(&s->pub);
        return NULL;
    }
    return &s->pub;
}

static bool myw_move(writer *w, writer_session *s, int idx)
{
    (void)w;
    (void)s;
    (void)idx;
    return false; /* one server */
}

static bool myw_connected(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    return s->c && !s->lost;
}

/* A new connection with the same settings; the statements prepared on the old one are gone. */
static bool myw_reset(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    myw_forget_statements(s);
    bool retries = s->c ? s->c->retries : true;
    mysql_conn_close(s->c);
    s->c = NULL;
    char *why = NULL;
    unsigned int err = 0;
    s->c = open_quiet(s->w, &why, NULL, &err);
    if (!s->c) {
        s->lost = true;
        s->last_errno = err ? err : CR_SERVER_LOST;
        snprintf(s->last_error, sizeof s->last_error, "%s", why ? why : "cannot connect");
        free(why);
        return false;
    }
    free(why);
    s->c->retries = retries;
    s->lost = false;
    return session_settings(s);
}

static bool myw_ensure(writer_session *ws, retry_state *rs, const char *what,
                       const volatile sig_atomic_t *interrupt)
{
    my_wsession *s = my_ws(ws);
    for (;;) {
        if (s->c && !s->lost) {
            if (myw_exec(s, "SELECT 1", true) || !s->lost)
                return true;
        }
        if (!retry_failed(rs)) {
            log_report(LOG_ERROR, NULL,
                       "run the same command again once the database is reachable (or raise "
                       RETRY_TIMEOUT_ENV ")",
                       "%s database: %s: the connection is lost and could not be re-established "
                       "within %llds (%s)",
                       db_role_name(ws->role), what, (long long)(rs->policy.deadline_ms / 1000),
                       s->last_error);
            return false;
        }
        log_warn("%s database: %s: connection lost (%s); reconnecting (attempt %d, giving up "
                 "after %llds)",
                 db_role_name(ws->role), what, s->last_error, rs->attempt,
                 (long long)(rs->policy.deadline_ms / 1000));
        if (!retry_backoff(rs, interrupt))
            return false;
        myw_reset(ws);
    }
}

static bool myw_retryable(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    return s->lost || mysql_errno_transient(s->last_errno);
}

static bool myw_unique_violation(writer_session *ws)
{
    unsigned int e = my_ws(ws)->last_errno;
    return e == ER_DUP_ENTRY || e == ER_DUP_ENTRY_WITH_KEY_NAME || e == ER_DUP_KEY;
}

static const char *myw_error_line(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    s->lost = true; /* a reconnect that failed: retryable */
    return s->last_error;
}

static char *myw_user_ident(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    const char *u = s->w->conf->user ? s->w->conf->user : "";
    strbuf sb = STRBUF_INIT;
    strbuf_append_char(&sb, '\'');
    for (const char *p = u; *p; p++) {
        if (*p == '\'')
            strbuf_append_char(&sb, '\'');
        strbuf_append_char(&sb, *p);
    }
    strbuf_append(&sb, "'@'<client host>'");
    return strbuf_detach(&sb);
}

static bool myw_is_yugabyte(writer_session *ws)
{
    (void)ws;
    return false;
}

static void myw_set_retrying(writer_session *ws, bool on)
{
    my_wsession *s = my_ws(ws);
    if (s->c)
        s->c->retries = on;
}

static bool myw_idle(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    if (!s->c || s->lost)
        return false;
    unsigned int status = 0;
    if (mariadb_get_infov(s->c->my, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0)
        return false;
    return !(status & SERVER_STATUS_IN_TRANS);
}

static bool myw_begin(writer_session *ws) { return myw_exec(my_ws(ws), "START TRANSACTION", false); }
static bool myw_commit(writer_session *ws) { return myw_exec(my_ws(ws), "COMMIT", false); }
static void myw_rollback_after_failure(writer_session *ws) { myw_rollback(my_ws(ws)); }

/* ---- queries with parameters, quiet or logged, recording failures in the session ---- */

static bool squery(my_wsession *s, const char *sql, int n, const char *const *p, mysql_rows *out,
                   bool quiet)
{
    *out = (mysql_rows)MYSQL_ROWS_INIT;
    if (!s->c || s->lost) {
        s->last_errno = CR_SERVER_LOST;
        snprintf(s->last_error, sizeof s->last_error, "the connection is lost");
        return false;
    }
    bool ok = quiet ? mysql_conn_query_quiet(s->c, sql, n, p, out)
                    : mysql_conn_query(s->c, sql, n, p, out);
    if (!ok) {
        s->last_errno = s->c->last_errno;
        snprintf(s->last_error, sizeof s->last_error, "MySQL error %u (SQLSTATE %s)",
                 s->c->last_errno, s->c->sqlstate);
        if (mysql_errno_lost(s->c->last_errno) || s->c->last_errno == CR_COMMANDS_OUT_OF_SYNC)
            s->lost = true;
    }
    return ok;
}

/* A statement with parameters and no result; *affected when not NULL. */
static bool sexec(my_wsession *s, const char *sql, int n, const char *const *p, bool quiet)
{
    mysql_rows r;
    bool ok = squery(s, sql, n, p, &r, quiet);
    mysql_rows_free(&r);
    return ok;
}

/* ---- the tables as the target names them ---- */

static mcol_kind kind_of(const char *data_type)
{
    static const char *const bytes[] = {"binary",   "varbinary",  "tinyblob",   "blob",
                                        "mediumblob", "longblob", "geometry",   "point",
                                        "linestring", "polygon",  "multipoint", "multilinestring",
                                        "multipolygon", "geometrycollection"};
    static const char *const ints[] = {"tinyint", "smallint", "mediumint", "int", "bigint"};
    for (size_t i = 0; i < sizeof bytes / sizeof *bytes; i++)
        if (str_case_eq(data_type, bytes[i]))
            return MCOL_BYTES;
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        if (str_case_eq(data_type, ints[i]))
            return MCOL_INTEGER;
    if (str_case_eq(data_type, "bit"))
        return MCOL_BIT;
    if (str_case_eq(data_type, "year"))
        return MCOL_YEAR;
    if (str_case_eq(data_type, "float"))
        return MCOL_FLOAT;
    if (str_case_eq(data_type, "timestamp"))
        return MCOL_TIMESTAMP;
    return MCOL_TEXT;
}

/* The MySQL name of the table the target calls target_table (caller frees), or NULL. */
static char *find_table(my_wsession *s, const char *target_table, bool *failed)
{
    *failed = false;
    const char *p[1] = {s->w->conf->name};
    mysql_rows r;
    if (!squery(s,
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND "
                "TABLE_TYPE = 'BASE TABLE'",
                1, p, &r, false)) {
        *failed = true;
        mysql_rows_free(&r);
        return NULL;
    }
    char *out = NULL;
    for (size_t i = 0; i < r.nrows && !out; i++) {
        char *raw = mysql_ddl_raw_name(mysql_rows_get(&r, i, 0));
        if (str_eq(raw, target_table))
            out = xstrdup(mysql_rows_get(&r, i, 0));
        free(raw);
    }
    mysql_rows_free(&r);
    return out;
}

static mtable *load_table(my_wsession *s, const char *target_table, bool quiet)
{
    bool failed;
    char *name = find_table(s, target_table, &failed);
    if (!name) {
        if (!failed && !quiet)
            log_report(LOG_ERROR, NULL,
                       "create it on the MySQL database, or exclude the table from the migration",
                       "%s database: no table of database `%s` is the target's table %s",
                       db_role_name(s->pub.role), s->w->conf->name, target_table);
        return NULL;
    }
    const char *p[2] = {s->w->conf->name, name};
    mysql_rows r;
    if (!squery(s,
                "SELECT COLUMN_NAME, DATA_TYPE, IS_GENERATED, EXTRA FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                2, p, &r, false)) {
        mysql_rows_free(&r);
        free(name);
        return NULL;
    }
    mtable *t = xcalloc(1, sizeof *t);
    t->name = name;
    t->qualified = mysql_quote_qualified(s->w->conf->name, name);
    t->ncols = r.nrows;
    t->cols = xcalloc(r.nrows ? r.nrows : 1, sizeof *t->cols);
    for (size_t i = 0; i < r.nrows; i++) {
        mcol *c = &t->cols[i];
        c->name = xstrdup(mysql_rows_get(&r, i, 0));
        c->target = mysql_ddl_raw_name(c->name);
        c->kind = kind_of(mysql_rows_get(&r, i, 1));
        const char *gen = mysql_rows_get(&r, i, 2), *extra = mysql_rows_get(&r, i, 3);
        c->generated = gen && str_case_eq(gen, "ALWAYS");
        c->auto_increment = extra && strstr(extra, "auto_increment");
        /* MariaDB: "on update current_timestamp()"; MySQL 8: "DEFAULT_GENERATED on update CURRENT_TIMESTAMP" */
        char *lower = extra ? str_to_lower(extra) : NULL;
        c->on_update = lower && strstr(lower, "on update");
        free(lower);
    }
    mysql_rows_free(&r);
    return t;
}

const mtable *myw_table(my_wsession *s, const char *target_table, bool quiet)
{
    mtable *t = strmap_get(&s->tables, target_table, strlen(target_table));
    if (t)
        return t;
    t = load_table(s, target_table, quiet);
    if (t)
        strmap_put(&s->tables, target_table, strlen(target_table), t);
    return t;
}

const mcol *myw_col(const mtable *t, const char *target)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (str_eq(t->cols[i].target, target))
            return &t->cols[i];
    return NULL;
}

/*
 * Can conflicts be followed by the events' text values for a key of these columns? Not for text
 * under a case- or accent-insensitive collation ('A' and 'a' are one key in MySQL), nor for a
 * prefix: such a key keeps its changes in source order (unique_serial).
 */
static bool key_by_value(const char *data_type, const char *collation, const char *sub_part)
{
    if (sub_part)
        return false;
    if (!collation)
        return true; /* numbers, dates, binary strings */
    (void)data_type;
    return str_ends_with(collation, "_bin");
}

static bool myw_table_meta(writer_session *ws, const char *schema, const char *table, int idx,
                           table_meta **out)
{
    my_wsession *s = my_ws(ws);
    *out = NULL;
    const mtable *mt = myw_table(s, table, false);
    if (!mt)
        return false;
    const char *p[2] = {s->w->conf->name, mt->name};
    mysql_rows r;
    if (!squery(s,
                "SELECT s.INDEX_NAME, s.COLUMN_NAME, s.SUB_PART, c.DATA_TYPE, c.COLLATION_NAME "
                "FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c ON "
                "c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND "
                "c.COLUMN_NAME = s.COLUMN_NAME WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND "
                "s.NON_UNIQUE = 0 ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, "
                "s.SEQ_IN_INDEX",
                2, p, &r, false)) {
        mysql_rows_free(&r);
        return false;
    }
    table_meta *t = xcalloc(1, sizeof *t);
    t->idx = idx;
    t->order_group = idx;
    t->schema_name = xstrdup(schema);
    t->table_name = xstrdup(table);
    t->qualified = xstrdup(mt->qualified);
    t->count_name = xasprintf("%s.%s", schema, table);
    t->uniq = xcalloc(r.nrows + 1, sizeof *t->uniq);
    size_t serial = 0;
    for (size_t i = 0; i < r.nrows;) {
        const char *index = mysql_rows_get(&r, i, 0);
        bool primary = str_eq(index, "PRIMARY");
        bool by_value = true;
        strlist cols = STRLIST_INIT;
        size_t j = i;
        for (; j < r.nrows && str_eq(mysql_rows_get(&r, j, 0), index); j++) {
            char *target = mysql_ddl_raw_name(mysql_rows_get(&r, j, 1));
            strlist_push_owned(&cols, target);
            if (!key_by_value(mysql_rows_get(&r, j, 3), mysql_rows_get(&r, j, 4),
                              mysql_rows_get(&r, j, 2)))
                by_value = false;
        }
        i = j;
        if (!by_value) {
            t->unique_serial = true;
            serial++;
        }
        if (primary) {
            t->pk = cols;
            continue;
        }
        for (size_t k = 0; k < cols.count; k++)
            if (!strlist_contains(&t->ucols, cols.items[k]))
                strlist_push(&t->ucols, cols.items[k]);
        if (by_value)
            t->uniq[t->nuniq++] = cols;
        else
            strlist_free(&cols);
    }
    mysql_rows_free(&r);
    for (size_t i = 0; i < mt->ncols; i++) {
        strlist_push(&t->col_names, mt->cols[i].target);
        strlist_push(&t->col_types, "text");
    }
    log_info("apply: table %s: %zu primary-key column(s), %zu unique key(s) followed by value, "
             "%zu not (collation or prefix)",
             t->qualified, t->pk.count, t->nuniq, serial);
    *out = t;
    return true;
}

/* ---- the change apply's bookkeeping ---- */

/* The bookkeeping could not be made: a missing grant is the likely cause, and its fix is one line. */
static void bookkeeping_failed(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    if (s->lost || mysql_errno_transient(s->last_errno)) {
        log_warn("%s database: cannot create the bookkeeping database " MYW_META_DB ": %s",
                 db_role_name(ws->role), s->last_error);
        return;
    }
    char *user = myw_user_ident(ws);
    char *hint = xasprintf("as an administrator run: GRANT ALL ON " MYW_META_DB ".* TO %s;", user);
    log_report(LOG_ERROR, NULL, hint,
               "%s database: cannot create the bookkeeping database " MYW_META_DB ": %s",
               db_role_name(ws->role), s->last_error);
    free(hint);
    free(user);
}

static bool myw_create(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    bool ok = myw_exec(s, "CREATE DATABASE IF NOT EXISTS " MYW_META_DB, true) &&
              myw_exec(s,
                       "CREATE TABLE IF NOT EXISTS " MYW_CHANNELS " ("
                       "migration_uuid CHAR(36) NOT NULL, channel_no INT NOT NULL, "
                       "last_applied_vsn BIGINT NOT NULL DEFAULT 0, "
                       "num_inserts BIGINT NOT NULL DEFAULT 0, "
                       "num_updates BIGINT NOT NULL DEFAULT 0, "
                       "num_deletes BIGINT NOT NULL DEFAULT 0, "
                       "queue_generation VARCHAR(128) NULL, "
                       "PRIMARY KEY (migration_uuid, channel_no)) "
                       "ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
                       true) &&
              myw_exec(s,
                       "CREATE TABLE IF NOT EXISTS " MYW_COUNTS " ("
                       "migration_uuid CHAR(36) NOT NULL, table_name VARCHAR(255) NOT NULL, "
                       "channel_no INT NOT NULL, total_events BIGINT NOT NULL DEFAULT 0, "
                       "num_inserts BIGINT NOT NULL DEFAULT 0, "
                       "num_updates BIGINT NOT NULL DEFAULT 0, "
                       "num_deletes BIGINT NOT NULL DEFAULT 0, "
                       "PRIMARY KEY (migration_uuid, table_name, channel_no)) "
                       "ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
                       true);
    if (!ok)
        bookkeeping_failed(ws);
    return ok;
}

static int myw_generation_check(writer_session *ws, const char *uuid, const char *generation,
                                int64_t *applied_vsn)
{
    my_wsession *s = my_ws(ws);
    const char *p[2] = {uuid, generation};
    mysql_rows r;
    if (!squery(s,
                "SELECT COUNT(*), COALESCE(MAX(last_applied_vsn), 0) FROM " MYW_CHANNELS
                " WHERE migration_uuid = ? AND queue_generation <> ?",
                2, p, &r, false)) {
        mysql_rows_free(&r);
        return -1;
    }
    bool other = !str_eq(mysql_rows_get(&r, 0, 0), "0");
    *applied_vsn = strtoll(mysql_rows_get(&r, 0, 1) ? mysql_rows_get(&r, 0, 1) : "0", NULL, 10);
    mysql_rows_free(&r);
    return other ? 1 : 0;
}

static bool myw_channels(writer_session *ws, const char *uuid, const char *generation, int want,
                         int *nchannels, int64_t **last_applied)
{
    my_wsession *s = my_ws(ws);
    const char *p[1] = {uuid};
    mysql_rows r;
    if (!squery(s,
                "SELECT channel_no, last_applied_vsn FROM " MYW_CHANNELS
                " WHERE migration_uuid = ? ORDER BY channel_no",
                1, p, &r, false)) {
        mysql_rows_free(&r);
        return false;
    }
    size_t n = r.nrows;
    if (n == 0) {
        mysql_rows_free(&r);
        /* all rows in one statement: a crash leaves either none or all of them */
        strbuf sql = STRBUF_INIT;
        strbuf_append(&sql, "INSERT IGNORE INTO " MYW_CHANNELS
                            " (migration_uuid, channel_no, queue_generation) VALUES ");
        const char **pp = xcalloc((size_t)want * 2 + 1, sizeof *pp);
        char(*nums)[16] = xcalloc((size_t)want + 1, sizeof *nums);
        for (int i = 0; i < want; i++) {
            snprintf(nums[i], sizeof nums[i], "%d", i);
            strbuf_appendf(&sql, "%s(?, %s, ?)", i ? ", " : "", nums[i]);
            pp[2 * i] = uuid;
            pp[2 * i + 1] = generation;
        }
        bool ok = sexec(s, strbuf_cstr(&sql), want * 2, pp, false);
        strbuf_free(&sql);
        free(pp);
        free(nums);
        if (!ok)
            return false;
        *nchannels = want;
        *last_applied = xcalloc((size_t)want, sizeof **last_applied);
        return true;
    }
    *nchannels = (int)n;
    *last_applied = xcalloc(n, sizeof **last_applied);
    for (size_t i = 0; i < n; i++) {
        int no = atoi(mysql_rows_get(&r, i, 0));
        if (no != (int)i) {
            log_report(LOG_ERROR, "the change apply bookkeeping is damaged", NULL,
                       "%s database: %s has channel %d where %zu was expected",
                       db_role_name(ws->role), MYW_CHANNELS, no, i);
            mysql_rows_free(&r);
            free(*last_applied);
            *last_applied = NULL;
            return false;
        }
        (*last_applied)[i] = strtoll(mysql_rows_get(&r, i, 1), NULL, 10);
    }
    mysql_rows_free(&r);
    return true;
}

static bool myw_reset_progress(writer_session *ws, const char *uuid)
{
    my_wsession *s = my_ws(ws);
    const char *p[1] = {uuid};
    return sexec(s, "DELETE FROM " MYW_CHANNELS " WHERE migration_uuid = ?", 1, p, false) &&
           sexec(s, "DELETE FROM " MYW_COUNTS " WHERE migration_uuid = ?", 1, p, false);
}

static bool myw_progress(writer_session *ws, const char *uuid, int channel, int64_t *vsn)
{
    my_wsession *s = my_ws(ws);
    char ch[16];
    snprintf(ch, sizeof ch, "%d", channel);
    const char *p[2] = {uuid, ch};
    mysql_rows r;
    bool ok = squery(s,
                     "SELECT last_applied_vsn FROM " MYW_CHANNELS
                     " WHERE migration_uuid = ? AND channel_no = ?",
                     2, p, &r, true) &&
              r.nrows == 1;
    if (ok)
        *vsn = strtoll(mysql_rows_get(&r, 0, 0), NULL, 10);
    mysql_rows_free(&r);
    return ok;
}

static bool myw_total_applied(writer_session *ws, const char *uuid, int64_t *total)
{
    my_wsession *s = my_ws(ws);
    const char *p[1] = {uuid};
    mysql_rows r;
    bool ok = squery(s,
                     "SELECT COALESCE(SUM(num_inserts + num_updates + num_deletes), 0) FROM "
                     MYW_CHANNELS " WHERE migration_uuid = ?",
                     1, p, &r, false);
    if (ok)
        *total = strtoll(r.nrows ? mysql_rows_get(&r, 0, 0) : "0", NULL, 10);
    mysql_rows_free(&r);
    return ok;
}

/* ---- the snapshot's bookkeeping ---- */

static bool myw_batches_create(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    bool ok = myw_exec(s, "CREATE DATABASE IF NOT EXISTS " MYW_META_DB, true) &&
              myw_exec(s,
                       "CREATE TABLE IF NOT EXISTS " MYW_BATCHES " ("
                       "migration_uuid CHAR(36) NOT NULL, data_file_name VARCHAR(255) NOT NULL, "
                       "batch_number INT NOT NULL, schema_name VARCHAR(64) NOT NULL, "
                       "table_name VARCHAR(64) NOT NULL, rows_imported BIGINT NULL, "
                       "PRIMARY KEY (migration_uuid, data_file_name, batch_number, schema_name, "
                       "table_name)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
                       true);
    if (!ok)
        bookkeeping_failed(ws);
    return ok;
}

static bool myw_batches_load(writer_session *ws, const char *uuid, import_metainfo_set *out)
{
    memset(out, 0, sizeof *out);
    const char *p[1] = {uuid};
    mysql_rows r;
    if (!squery(my_ws(ws),
                "SELECT data_file_name, batch_number, COALESCE(rows_imported, 0) FROM " MYW_BATCHES
                " WHERE migration_uuid = ?",
                1, p, &r, false)) {
        mysql_rows_free(&r);
        return false;
    }
    out->items = xcalloc(r.nrows + 1, sizeof *out->items);
    for (size_t i = 0; i < r.nrows; i++) {
        out->items[i].file_name = xstrdup(mysql_rows_get(&r, i, 0));
        out->items[i].batch_number = strtoll(mysql_rows_get(&r, i, 1), NULL, 10);
        out->items[i].rows = strtoll(mysql_rows_get(&r, i, 2), NULL, 10);
    }
    out->count = r.nrows;
    mysql_rows_free(&r);
    import_metainfo_set_sort(out);
    return true;
}

static bool myw_batches_forget_table(writer_session *ws, const char *uuid, const char *schema,
                                     const char *table)
{
    const char *p[3] = {uuid, schema, table};
    return sexec(my_ws(ws),
                 "DELETE FROM " MYW_BATCHES
                 " WHERE migration_uuid = ? AND schema_name = ? AND table_name = ?",
                 3, p, false);
}

/* Empty a table inside the caller's transaction: DELETE, as TRUNCATE commits on its own. */
static bool empty_table(my_wsession *s, const char *target_table)
{
    const mtable *t = myw_table(s, target_table, false);
    if (!t)
        return false;
    char *sql = xasprintf("DELETE FROM %s", t->qualified);
    bool ok = myw_exec(s, sql, false);
    free(sql);
    return ok;
}

static bool myw_batches_undo_table(writer_session *ws, const char *uuid, const char *schema,
                                   const char *table, int64_t *rows_removed)
{
    my_wsession *s = my_ws(ws);
    *rows_removed = 0;
    const char *p[3] = {uuid, schema, table};
    if (!myw_exec(s, "START TRANSACTION", false))
        return false;
    mysql_rows r;
    bool ok = squery(s,
                     "SELECT COUNT(*), COALESCE(SUM(rows_imported), 0) FROM " MYW_BATCHES
                     " WHERE migration_uuid = ? AND schema_name = ? AND table_name = ? FOR UPDATE",
                     3, p, &r, false) &&
              r.nrows == 1;
    long long batches = ok ? strtoll(mysql_rows_get(&r, 0, 0), NULL, 10) : 0;
    long long rows = ok ? strtoll(mysql_rows_get(&r, 0, 1), NULL, 10) : 0;
    mysql_rows_free(&r);
    if (ok && batches > 0)
        ok = empty_table(s, table) && myw_batches_forget_table(ws, uuid, schema, table);
    ok = ok && myw_exec(s, "COMMIT", false);
    if (!ok) {
        myw_rollback(s);
        return false;
    }
    *rows_removed = rows;
    return true;
}

static bool myw_check_table(writer_session *ws, const char *schema, const char *table)
{
    (void)schema;
    return myw_table(my_ws(ws), table, false) != NULL;
}

static int myw_table_has_rows(writer_session *ws, const char *schema, const char *table)
{
    (void)schema;
    my_wsession *s = my_ws(ws);
    const mtable *t = myw_table(s, table, false);
    if (!t)
        return -1;
    char *sql = xasprintf("SELECT EXISTS (SELECT 1 FROM %s)", t->qualified);
    mysql_rows r;
    bool ok = squery(s, sql, 0, NULL, &r, false);
    free(sql);
    int out = ok && r.nrows == 1 ? str_eq(mysql_rows_get(&r, 0, 0), "1") : -1;
    mysql_rows_free(&r);
    return out;
}

static bool myw_truncate_tables(writer_session *ws, const strlist *schemas, const strlist *names)
{
    (void)schemas;
    my_wsession *s = my_ws(ws);
    /* foreign keys among the tables: not checked while they are emptied in turn */
    bool ok = myw_exec(s, "SET SESSION foreign_key_checks = 0", false);
    for (size_t i = 0; ok && i < names->count; i++)
        ok = empty_table(s, names->items[i]);
    if (!s->apply && !s->loader && !s->lost)
        myw_exec(s, "SET SESSION foreign_key_checks = 1", true);
    return ok;
}

/* ---- sequences: AUTO_INCREMENT ---- */

/*
 * The target's identity sequence of an AUTO_INCREMENT column is "<table>_<column>_seq" (the
 * name export schema reserves, docs/DECISIONS.md "MySQL source"): the MySQL table whose
 * AUTO_INCREMENT column gives that name gets AUTO_INCREMENT = the sequence's next value. MySQL
 * never lowers it below the largest value in the column (harmless then). Idempotent.
 */
static bool myw_set_sequences(writer_session *ws, const sequence_value *seqs, size_t n,
                              int *restored)
{
    my_wsession *s = my_ws(ws);
    *restored = 0;
    const char *p[1] = {s->w->conf->name};
    mysql_rows r;
    if (!squery(s,
                "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = ? AND EXTRA LIKE '%auto_increment%'",
                1, p, &r, false)) {
        mysql_rows_free(&r);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        if (!seqs[i].schema || !seqs[i].name)
            continue;
        const char *table = NULL;
        for (size_t k = 0; k < r.nrows && !table; k++) {
            char *tn = mysql_ddl_raw_name(mysql_rows_get(&r, k, 0));
            char *cn = mysql_ddl_raw_name(mysql_rows_get(&r, k, 1));
            char *seq = xasprintf("%s_%s_seq", tn, cn);
            if (str_eq(seq, seqs[i].name))
                table = mysql_rows_get(&r, k, 0);
            free(seq);
            free(tn);
            free(cn);
        }
        if (!table) {
            log_warn("sequence %s.%s of the target is no AUTO_INCREMENT column of the %s "
                     "database: not restored",
                     seqs[i].schema, seqs[i].name, db_role_name(ws->role));
            continue;
        }
        long long next = seqs[i].is_called ? seqs[i].last_value + 1 : seqs[i].last_value;
        if (next < 1)
            next = 1;
        char *q = mysql_quote_qualified(s->w->conf->name, table);
        char *sql = xasprintf("ALTER TABLE %s AUTO_INCREMENT = %lld", q, next);
        ok = myw_exec(s, sql, false);
        if (ok) {
            (*restored)++;
            log_info("%s: AUTO_INCREMENT = %lld (the target's sequence %s.%s)", q, next,
                     seqs[i].schema, seqs[i].name);
        }
        free(sql);
        free(q);
    }
    mysql_rows_free(&r);
    return ok;
}

/* ---- apply ---- */

static bool myw_apply_setup(writer_session *ws, int channel, const char *uuid)
{
    my_wsession *s = my_ws(ws);
    s->channel = channel;
    s->uuid = uuid;
    if (!s->apply) {
        s->apply = true;
        if (!myw_exec(s, "SET SESSION foreign_key_checks = 0", true))
            return false;
    }
    return true;
}

static bool myw_w_apply_batch(writer_session *ws, int64_t after_vsn, writer_item **items,
                              size_t n, writer_item **failed, strbuf *err)
{
    my_wsession *s = my_ws(ws);
    bool ok = myw_apply_batch(s, after_vsn, items, n, failed, err);
    ws->zero_row_changes = s->zero_row_changes;
    return ok;
}

static bool myw_w_apply_progress(writer_session *ws, int64_t after_vsn, int64_t vsn)
{
    return myw_apply_progress(my_ws(ws), after_vsn, vsn);
}

/* ---- the report and end migration ---- */

/* Does ybvoyager_metadata.<table> exist? 1 yes, 0 no, -1 the query failed (logged). */
static int meta_table_exists(my_wsession *s, const char *table)
{
    const char *p[2] = {MYW_META_DB, table};
    mysql_rows r;
    bool ok = squery(s,
                     "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND "
                     "TABLE_NAME = ?",
                     2, p, &r, false) &&
              r.nrows == 1;
    int out = ok ? !str_eq(mysql_rows_get(&r, 0, 0), "0") : -1;
    mysql_rows_free(&r);
    return out;
}

/* The count of schema.table in counts[0..*n), added when missing. */
static writer_table_count *count_of(writer_table_count **counts, size_t *n, size_t *cap,
                                    const char *schema, const char *table)
{
    for (size_t i = 0; i < *n; i++)
        if (str_eq((*counts)[i].schema_name, schema) && str_eq((*counts)[i].table_name, table))
            return &(*counts)[i];
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *counts = xrealloc(*counts, *cap * sizeof **counts);
    }
    writer_table_count *c = &(*counts)[(*n)++];
    *c = (writer_table_count){.schema_name = xstrdup(schema), .table_name = xstrdup(table),
                              .snapshot_rows = -1};
    return c;
}

static bool myw_table_counts(writer_session *ws, const char *uuid, writer_table_count **out,
                             size_t *n)
{
    my_wsession *s = my_ws(ws);
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p[1] = {uuid};
    int has = meta_table_exists(s, MYW_BATCHES_TABLE);
    if (has < 0)
        return false;
    mysql_rows r;
    if (has) {
        if (!squery(s,
                    "SELECT schema_name, table_name, COALESCE(SUM(rows_imported), 0) FROM "
                    MYW_BATCHES " WHERE migration_uuid = ? GROUP BY schema_name, table_name",
                    1, p, &r, false))
            goto fail;
        for (size_t i = 0; i < r.nrows; i++)
            count_of(out, n, &cap, mysql_rows_get(&r, i, 0), mysql_rows_get(&r, i, 1))
                ->snapshot_rows = strtoll(mysql_rows_get(&r, i, 2), NULL, 10);
        mysql_rows_free(&r);
    }
    has = meta_table_exists(s, MYW_COUNTS_TABLE);
    if (has < 0)
        goto fail_noresult;
    if (has) {
        if (!squery(s,
                    "SELECT table_name, COALESCE(SUM(num_inserts), 0), COALESCE(SUM(num_updates), "
                    "0), COALESCE(SUM(num_deletes), 0) FROM " MYW_COUNTS
                    " WHERE migration_uuid = ? GROUP BY table_name",
                    1, p, &r, false))
            goto fail;
        for (size_t i = 0; i < r.nrows; i++) {
            /*
             * table_meta's count_name: "schema.table" unquoted; the target's schema names have
             * no dot (export schema makes them from a MySQL database name or
             * --target-db-schema), so the first dot ends it.
             */
            const char *name = mysql_rows_get(&r, i, 0);
            const char *dot = name ? strchr(name, '.') : NULL;
            if (!dot)
                continue;
            char *schema = xstrndup(name, (size_t)(dot - name));
            writer_table_count *c = count_of(out, n, &cap, schema, dot + 1);
            free(schema);
            c->inserts += strtoll(mysql_rows_get(&r, i, 1), NULL, 10);
            c->updates += strtoll(mysql_rows_get(&r, i, 2), NULL, 10);
            c->deletes += strtoll(mysql_rows_get(&r, i, 3), NULL, 10);
        }
        mysql_rows_free(&r);
    }
    return true;
fail:
    mysql_rows_free(&r);
fail_noresult:
    writer_table_counts_free(*out, *n);
    *out = NULL;
    *n = 0;
    return false;
}

static int myw_row_count(writer_session *ws, const char *schema, const char *table, int64_t *rows)
{
    (void)schema; /* the database of the connection holds every table (mysql_writer_int.h) */
    my_wsession *s = my_ws(ws);
    bool failed;
    char *name = find_table(s, table, &failed);
    if (!name)
        return failed ? -1 : 0;
    char *q = mysql_quote_qualified(s->w->conf->name, name);
    char *sql = xasprintf("SELECT COUNT(*) FROM %s", q);
    mysql_rows r;
    bool ok = squery(s, sql, 0, NULL, &r, false) && r.nrows == 1;
    if (ok)
        *rows = strtoll(mysql_rows_get(&r, 0, 0), NULL, 10);
    mysql_rows_free(&r);
    free(sql);
    free(q);
    free(name);
    return ok ? 1 : -1;
}

/* Rows of ybvoyager_metadata.<table> (which exists): -1 the query failed (logged). */
static int64_t meta_table_rows(my_wsession *s, const char *qualified)
{
    char *sql = xasprintf("SELECT COUNT(*) FROM %s", qualified);
    mysql_rows r;
    bool ok = squery(s, sql, 0, NULL, &r, false) && r.nrows == 1;
    free(sql);
    int64_t n = ok ? strtoll(mysql_rows_get(&r, 0, 0), NULL, 10) : -1;
    mysql_rows_free(&r);
    return n;
}

/*
 * This migration's rows go; a bookkeeping table goes when no other
 * migration's rows are left in it, and the database when no table at all is
 * left in it (another migration's, or anything someone put there).
 */
static bool myw_drop_bookkeeping(writer_session *ws, const char *migration_uuid,
                                 writer_bookkeeping_end *outcome)
{
    my_wsession *s = my_ws(ws);
    *outcome = BOOKKEEPING_NONE;
    static const char *const tables[][2] = {
        {MYW_CHANNELS_TABLE, MYW_CHANNELS},
        {MYW_COUNTS_TABLE, MYW_COUNTS},
        {MYW_BATCHES_TABLE, MYW_BATCHES},
    };
    const char *p[1] = {migration_uuid};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        int has = meta_table_exists(s, tables[i][0]);
        if (has < 0)
            return false;
        if (!has)
            continue;
        char *del = xasprintf("DELETE FROM %s WHERE migration_uuid = ?", tables[i][1]);
        bool ok = sexec(s, del, 1, p, false);
        free(del);
        int64_t left = ok ? meta_table_rows(s, tables[i][1]) : -1;
        if (left < 0)
            return false;
        if (left > 0) {
            log_say("%s database: kept %s: it holds another migration's rows", db_role_name(ws->role),
                    tables[i][1]);
            continue;
        }
        char *drop = xasprintf("DROP TABLE IF EXISTS %s", tables[i][1]);
        ok = myw_exec(s, drop, false);
        free(drop);
        if (!ok)
            return false;
    }
    const char *pdb[2] = {MYW_META_DB, MYW_META_DB};
    mysql_rows r;
    bool ok = squery(s,
                     "SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?), "
                     "(SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?)",
                     2, pdb, &r, false) &&
              r.nrows == 1;
    bool has = ok && !str_eq(mysql_rows_get(&r, 0, 0), "0");
    bool empty = ok && str_eq(mysql_rows_get(&r, 0, 1), "0");
    mysql_rows_free(&r);
    if (!ok || !has)
        return ok;
    if (!empty) {
        log_say("%s database: kept database " MYW_META_DB ": other tables are left in it",
                db_role_name(ws->role));
        *outcome = BOOKKEEPING_KEPT;
        return true;
    }
    if (!myw_exec(s, "DROP DATABASE IF EXISTS " MYW_META_DB, false))
        return false;
    *outcome = BOOKKEEPING_DROPPED;
    return true;
}

/* ---- loaders ---- */

static writer_session *myw_connect_loader(writer *w, int idx, bool upsert, atomic_int *warned)
{
    (void)idx;
    (void)warned; /* foreign keys can always be skipped in a MySQL session */
    (void)upsert; /* YugabyteDB's mode: MySQL gets plain INSERTs, as PostgreSQL does */
    char *why = NULL, *hint = NULL;
    unsigned int err = 0;
    mysql_conn *c = open_quiet(w, &why, &hint, &err);
    if (!c) {
        log_report(LOG_WARN, NULL, hint, "%s", why ? why : "cannot connect");
        free(why);
        free(hint);
        return NULL;
    }
    free(why);
    free(hint);
    my_wsession *s = session_of(w, c);
    s->loader = true;
    if (!session_settings(s)) {
        writer_session_close(&s->pub);
        return NULL;
    }
    return &s->pub;
}

static void myw_close_session(writer_session *ws)
{
    my_wsession *s = my_ws(ws);
    myw_forget_statements(s);
    strmap_free(&s->tables, mtable_free);
    mysql_conn_close(s->c);
    free(s);
}

const writer_ops writer_mysql_ops = {
    .type = "mysql",
    .connect = myw_connect,
    .discover_nodes = myw_discover_nodes,
    .node_count = myw_node_count,
    .connect_channel = myw_connect_channel,
    .move = myw_move,
    .connected = myw_connected,
    .reset = myw_reset,
    .ensure = myw_ensure,
    .retryable = myw_retryable,
    .unique_violation = myw_unique_violation,
    .error_line = myw_error_line,
    .user_ident = myw_user_ident,
    .is_yugabyte = myw_is_yugabyte,
    .set_retrying = myw_set_retrying,
    .idle = myw_idle,
    .begin = myw_begin,
    .commit = myw_commit,
    .rollback_after_failure = myw_rollback_after_failure,
    .table_meta = myw_table_meta,
    .create = myw_create,
    .generation_check = myw_generation_check,
    .channels = myw_channels,
    .reset_progress = myw_reset_progress,
    .progress = myw_progress,
    .total_applied = myw_total_applied,
    .batches_create = myw_batches_create,
    .batches_load = myw_batches_load,
    .batches_forget_table = myw_batches_forget_table,
    .batches_undo_table = myw_batches_undo_table,
    .check_table = myw_check_table,
    .table_has_rows = myw_table_has_rows,
    .truncate_tables = myw_truncate_tables,
    .load_statement = myw_load_statement,
    .connect_loader = myw_connect_loader,
    .load_batch = myw_load_batch,
    .batch_committed = myw_batch_committed,
    .set_sequences = myw_set_sequences,
    .apply_setup = myw_apply_setup,
    .apply_batch = myw_w_apply_batch,
    .apply_progress = myw_w_apply_progress,
    .apply_renew = NULL,
    .table_counts = myw_table_counts,
    .row_count = myw_row_count,
    .drop_bookkeeping = myw_drop_bookkeeping,
    .close_session = myw_close_session,
    .free = NULL,
};
