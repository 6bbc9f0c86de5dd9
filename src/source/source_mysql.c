/*
 * The MySQL / MariaDB source (source/source.h): the control connection, the
 * database's tables (the database is the schema: its tables go to the
 * target's "public" schema, named as export schema names them,
 * source/mysql/mysql_ddl.h), one consistent snapshot for every export worker,
 * AUTO_INCREMENT values as the identities' sequence values, the rows of a
 * table as PostgreSQL text COPY lines in the types export schema gives the
 * target columns, and the change feed from the binlog (see "the change feed"
 * below) with the same values as neutral changes.
 *
 * Memory: everything here is the source's (my_source, its feed), freed by
 * my_close; a src_change handed to the engine points into buffers valid only
 * for the callback; a binlog transaction stays the reader thread's.
 *
 * The snapshot: on the control connection FLUSH TABLES WITH READ LOCK (every
 * write waits), the binlog position read (for the log), the AUTO_INCREMENT
 * values read, then a pool of worker connections each START TRANSACTION WITH
 * CONSISTENT SNAPSHOT, then UNLOCK TABLES: every worker's transaction sees the
 * same point, the one the lock froze. The engine starts at most
 * min(--parallel-jobs, tables) workers and each opens one reader (rows_open),
 * so the pool holds min(tables listed, MYSQL_POOL_MAX) connections; export
 * data caps --parallel-jobs to MYSQL_POOL_MAX for a MySQL source.
 * Without RELOAD the lock is refused: the export stops with the GRANT to give.
 */
#include "source/source.h"

#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "catalog/catalog.h"
#include "source/mysql/mysql_binlog.h"
#include "source/mysql/mysql_catalog.h"
#include "source/mysql/mysql_charset.h"
#include "source/mysql/mysql_conn.h"
#include "source/mysql/mysql_ddl.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errmsg.h>
#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The most export workers a MySQL snapshot serves (connections opened under the lock). */
#define MYSQL_POOL_MAX 16
/*
 * How long the control connection (listing, locking, AUTO_INCREMENT values) waits for an answer,
 * and FLUSH TABLES WITH READ LOCK for the statements or locks ahead of it (every writer of the
 * source waits behind that lock meanwhile): a source that stops answering fails the call, which
 * export data starts again under its retry policy, instead of hanging. Seconds.
 */
#define MYSQL_CONTROL_TIMEOUT_ENV "YB_VOYAGER_MYSQL_CONTROL_TIMEOUT"
#define MYSQL_CONTROL_TIMEOUT_S 120
/* The target schema of the tables (import data loads into the schema export data names). */
#define MYSQL_TARGET_SCHEMA "public"

typedef struct my_source {
    mysql_conn *c; /* the control connection */
    mysql_catalog cat;
    bool have_cat;
    size_t ntables; /* of the last list_tables */
    int readers;    /* compare data: the readers the next snapshot serves (0: one per table) */
    /* snapshot_begin .. snapshot_end */
    pthread_mutex_t mu;
    mysql_conn **pool;
    size_t npool, next;
    sequence_value *seqs;
    size_t nseqs;
    struct my_feed *feed; /* the change feed, from feed_init (NULL for snapshot-only) */
    unsigned int pool_errno; /* why the last snapshot could not open its pool (0: it did): control_lost */
} my_source;

struct source_rows {
    my_source *m;
    const char *database;
    mysql_conn *c;
};

static my_source *my_of(source *s)
{
    if (!s->impl) {
        my_source *m = xcalloc(1, sizeof *m);
        pthread_mutex_init(&m->mu, NULL);
        s->impl = m;
    }
    return s->impl;
}

/* ---- connection and catalog ---- */

static unsigned int control_timeout_s(void)
{
    const char *e = getenv(MYSQL_CONTROL_TIMEOUT_ENV);
    int64_t v;
    if (e && *e) {
        if (parse_int64(e, 1, 86400, &v))
            return (unsigned int)v;
        log_warn("%s=%s is not a number of seconds from 1 to 86400; using %d", MYSQL_CONTROL_TIMEOUT_ENV, e,
                 MYSQL_CONTROL_TIMEOUT_S);
    }
    return MYSQL_CONTROL_TIMEOUT_S;
}

/* compare data's statement time limit for the connections of s (source.h statement_timeout_s). */
static unsigned int limit_of(const source *s)
{
    return s->statement_timeout_s > 0 ? (unsigned int)s->statement_timeout_s : 0;
}

static engine_status my_connect(source *s, bool quiet, char **why)
{
    my_source *m = my_of(s);
    if (m->c)
        return ENGINE_OK;
    if (!s->conf->name || !*s->conf->name) {
        log_error("--source-db-name is required for a MySQL source: the database to migrate "
                  "(MySQL's database is the schema)");
        return ENGINE_BAD_INPUT;
    }
    mysql_conn_options o = {.quiet = quiet, .why = why, .read_timeout = control_timeout_s(),
                            .lock_wait = true, .timeout_env = MYSQL_CONTROL_TIMEOUT_ENV,
                            .limit_statements = s->statement_timeout_s >= 0,
                            .statement_timeout_s = limit_of(s)};
    m->c = mysql_conn_open(s->conf, &o);
    if (!m->c)
        return ENGINE_SOURCE_FAILED;
    /* export data from the source starts its run again when this connection breaks (control_lost) */
    m->c->retries = s->conf->role == DB_SOURCE;
    /* Like db_connect_recorded: the configuration (never the password) and the server's version. */
    return db_conf_record(s->eng->cat, s->conf, m->c->server_version, false) ? ENGINE_OK : ENGINE_BAD_STATE;
}

/*
 * Did the snapshot's set-up fail because the server went away (or a transient error), which a
 * new run may mend? Asked of the control connection's last error and of the pool's.
 */
static bool my_control_lost(source *s)
{
    my_source *m = my_of(s);
    return mysql_errno_transient(m->pool_errno) || (m->c && mysql_errno_transient(m->c->last_errno));
}

static mysql_conn *my_control(source *s)
{
    my_source *m = my_of(s);
    if (!m->c)
        my_connect(s, false, NULL);
    return m->c;
}

/* The database is the schema: the tables land in the target's public schema. */
static bool my_resolve_schemas(source *s, strlist *schemas)
{
    (void)s;
    strlist_free(schemas);
    strlist_push(schemas, MYSQL_TARGET_SCHEMA);
    return true;
}

/* The columns a table's rows are read from: every stored one (a generated column is the target's to compute). */
static bool copied(const mysql_column *col) { return col->generation_expr == NULL; }

static const mysql_table *table_of(const my_source *m, const char *target_name)
{
    for (size_t i = 0; i < m->cat.ntables; i++) {
        char *raw = mysql_ddl_raw_name(m->cat.tables[i].name);
        bool same = strcmp(raw, target_name) == 0;
        free(raw);
        if (same)
            return &m->cat.tables[i];
    }
    return NULL;
}

static bool my_list_tables(source *s, const char *const *schemas, src_tables *out)
{
    (void)schemas;
    memset(out, 0, sizeof *out);
    my_source *m = my_of(s);
    mysql_conn *c = my_control(s);
    if (!c)
        return false;
    if (m->have_cat)
        mysql_catalog_free(&m->cat);
    m->have_cat = mysql_catalog_read(c, s->conf->name, &m->cat);
    if (!m->have_cat)
        return false;
    mysql_rows sizes = MYSQL_ROWS_INIT;
    const char *p[1] = {s->conf->name};
    if (!mysql_conn_query(c,
                          "SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0) "
                          "FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND "
                          "TABLE_TYPE = 'BASE TABLE'",
                          1, p, &sizes)) {
        mysql_rows_free(&sizes);
        return false;
    }
    out->items = xcalloc(m->cat.ntables + 1, sizeof *out->items);
    for (size_t i = 0; i < m->cat.ntables; i++) {
        const mysql_table *t = &m->cat.tables[i];
        src_table *o = &out->items[out->count++];
        o->schema = xstrdup(MYSQL_TARGET_SCHEMA);
        o->name = mysql_ddl_raw_name(t->name);
        o->relkind = 'r';
        for (size_t r = 0; r < sizes.nrows; r++)
            if (strcmp(mysql_rows_get(&sizes, r, 0), t->name) == 0) {
                o->est_rows = strtoll(mysql_rows_get(&sizes, r, 1), NULL, 10);
                o->bytes = strtoll(mysql_rows_get(&sizes, r, 2), NULL, 10);
            }
        cJSON *cols = cJSON_CreateArray();
        strbuf sel = STRBUF_INIT;
        for (size_t k = 0; k < t->ncolumns; k++) {
            const mysql_column *col = &t->columns[k];
            if (!copied(col))
                continue;
            char *raw = mysql_ddl_raw_name(col->name);
            cJSON_AddItemToArray(cols, cJSON_CreateString(raw));
            free(raw);
            /* The source's select list (this source's own use of column_list). */
            char *q = mysql_quote_ident(col->name);
            if (sel.len)
                strbuf_append(&sel, ", ");
            if (str_eq(col->data_type, "float"))
                strbuf_appendf(&sel, "CAST(%s AS DOUBLE)", q); /* every digit of the single */
            else if (str_eq(col->data_type, "double") && strchr(col->column_type, '('))
                /*
                 * DOUBLE(M,D) prints its value rounded to D decimals, often not the
                 * double it stores (which the binlog carries): the stored one, as the
                 * stream writes it.
                 */
                strbuf_appendf(&sel, "CAST(%s AS DOUBLE)", q);
            else
                strbuf_append(&sel, q);
            free(q);
        }
        char *json = cJSON_PrintUnformatted(cols);
        o->columns_json = json;
        cJSON_Delete(cols);
        o->column_list = strbuf_detach(&sel);
    }
    mysql_rows_free(&sizes);
    m->ntables = out->count;
    return true;
}

/* ---- the snapshot ---- */

static void pool_close(my_source *m)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = m->next; i < m->npool; i++)
        mysql_conn_close(m->pool[i]);
    free(m->pool);
    m->pool = NULL;
    m->npool = m->next = 0;
    pthread_mutex_unlock(&m->mu);
}

/* AUTO_INCREMENT values (under the lock, or at cutover) as the target identities' sequence values. */
static bool read_auto_increments(source *s, my_source *m, mysql_conn *c)
{
    sequence_values_free(m->seqs, m->nseqs);
    m->seqs = NULL;
    m->nseqs = 0;
    mysql_rows r = MYSQL_ROWS_INIT;
    const char *p[1] = {s->conf->name};
    bool ok = mysql_conn_query(c,
                               "SELECT TABLE_NAME, AUTO_INCREMENT FROM information_schema.TABLES "
                               "WHERE TABLE_SCHEMA = ? AND AUTO_INCREMENT IS NOT NULL",
                               1, p, &r);
    if (ok) {
        m->seqs = xcalloc(r.nrows + 1, sizeof *m->seqs);
        for (size_t i = 0; i < r.nrows; i++) {
            const mysql_table *t = mysql_catalog_table(&m->cat, mysql_rows_get(&r, i, 0));
            const mysql_column *ai = NULL;
            for (size_t k = 0; t && k < t->ncolumns && !ai; k++)
                if (t->columns[k].auto_increment)
                    ai = &t->columns[k];
            if (!ai)
                continue;
            unsigned long long next = strtoull(mysql_rows_get(&r, i, 1), NULL, 10);
            char *traw = mysql_ddl_raw_name(t->name), *craw = mysql_ddl_raw_name(ai->name);
            char *seq = xasprintf("%s_%s_seq", traw, craw);
            sequence_value *v = &m->seqs[m->nseqs++];
            v->schema = xstrdup(MYSQL_TARGET_SCHEMA);
            v->name = mysql_ddl_raw_name(seq); /* cut to 63 bytes as export schema does */
            /* AUTO_INCREMENT is the next value to give: the sequence's last one is the one before. */
            v->is_called = next > 1;
            v->last_value = next > 1 ? (long long)(next - 1) : 1;
            free(seq);
            free(traw);
            free(craw);
        }
    }
    mysql_rows_free(&r);
    return ok;
}

static void unlock_tables(my_source *m)
{
    mysql_rows none = MYSQL_ROWS_INIT;
    mysql_conn_query_quiet(m->c, "UNLOCK TABLES", 0, NULL, &none);
    mysql_rows_free(&none);
}

/*
 * The snapshot under FLUSH TABLES WITH READ LOCK; *pos (when not NULL): the binlog position the
 * lock froze, where the change feed starts (a binlog that cannot be read fails the snapshot).
 */
static char *take_snapshot(source *s, mysql_binlog_pos *pos)
{
    my_source *m = my_of(s);
    mysql_conn *c = my_control(s);
    if (!c)
        return NULL;
    pool_close(m);
    m->pool_errno = 0;
    mysql_rows none = MYSQL_ROWS_INIT;
    bool locked = mysql_conn_query_quiet(c, "FLUSH TABLES WITH READ LOCK", 0, NULL, &none);
    mysql_rows_free(&none);
    if (!locked) {
        if (c->last_errno == ER_SPECIFIC_ACCESS_DENIED_ERROR || c->last_errno == ER_ACCESS_DENIED_ERROR ||
            c->last_errno == ER_DBACCESS_DENIED_ERROR) {
            char *hint = xasprintf("as an administrator run: GRANT RELOAD ON *.* TO '%s'@'<client host>';",
                                   c->user);
            log_report(LOG_ERROR, "a consistent snapshot of every table needs the RELOAD privilege", hint,
                       "source database: FLUSH TABLES WITH READ LOCK was refused to user %s (error %u)",
                       c->user, c->last_errno);
            free(hint);
        } else if (c->last_errno == ER_LOCK_WAIT_TIMEOUT ||
                   ((c->last_errno == CR_SERVER_LOST || c->last_errno == CR_SERVER_GONE_ERROR) &&
                    now_monotonic_ms() - c->started_ms >= (long long)c->read_timeout * 1000 - 1000)) {
            char *hint = xasprintf("find what holds the tables (SHOW PROCESSLIST on the source: a long "
                                   "statement, LOCK TABLES) and let it finish, or check that the server "
                                   "answers; if it is only slow, raise %s (seconds)",
                                   MYSQL_CONTROL_TIMEOUT_ENV);
            log_report(c->retries ? LOG_WARN : LOG_ERROR,
                       "the lock waits for the statements and locks ahead of it, and every write on the "
                       "source waits behind the lock meanwhile, so it is given up",
                       hint, c->last_errno == ER_LOCK_WAIT_TIMEOUT
                                 ? "source database (MySQL at %s): FLUSH TABLES WITH READ LOCK not granted within %u s (error %u)"
                                 : "source database (MySQL at %s): no answer to FLUSH TABLES WITH READ LOCK within %u s (error %u)",
                       c->endpoint, c->last_errno == ER_LOCK_WAIT_TIMEOUT ? control_timeout_s() : c->read_timeout,
                       c->last_errno);
            free(hint);
        } else if (c->statement_timeout_s && mysql_errno_statement_timeout(c->last_errno)) {
            mysql_conn_report_statement_timeout(c, c->last_errno, "FLUSH TABLES WITH READ LOCK");
        } else {
            /* a warning when export data starts the run again (control_lost) */
            log_msg(c->retries && mysql_errno_transient(c->last_errno) ? LOG_WARN : LOG_ERROR,
                    "source database: FLUSH TABLES WITH READ LOCK failed: %s (error %u)",
                    mysql_error(c->my), c->last_errno);
        }
        return NULL;
    }
    /* Under the lock: nothing commits until UNLOCK TABLES. */
    char *name = NULL;
    bool ok = true;
    if (pos) {
        ok = mysql_binlog_current(c, pos);
        name = ok ? xasprintf("binlog %s:%llu", pos->file, pos->offset) : NULL;
    } else {
        mysql_rows st = MYSQL_ROWS_INIT;
        if (mysql_conn_query_quiet(c, "SHOW MASTER STATUS", 0, NULL, &st) && st.nrows == 1 && st.ncols >= 2)
            name = xasprintf("binlog %s:%s", mysql_rows_get(&st, 0, 0), mysql_rows_get(&st, 0, 1));
        else
            name = xstrdup("binlog off or not readable");
        mysql_rows_free(&st);
    }
    ok = ok && read_auto_increments(s, m, c);
    size_t want = m->readers > 0 ? (size_t)m->readers : m->ntables;
    want = want < 1 ? 1 : want > MYSQL_POOL_MAX ? MYSQL_POOL_MAX : want;
    m->pool = xcalloc(want, sizeof *m->pool);
    for (size_t i = 0; ok && i < want; i++) {
        char *why = NULL, *hint = NULL;
        mysql_conn_options o = {.read_timeout = 600, .quiet = true, .why = &why, .hint = &hint,
                                .err = &m->pool_errno, .limit_statements = s->statement_timeout_s >= 0,
                                .statement_timeout_s = limit_of(s)};
        mysql_conn *w = mysql_conn_open(s->conf, &o);
        if (!w)
            log_report(c->retries && mysql_errno_transient(m->pool_errno) ? LOG_WARN : LOG_ERROR, NULL,
                       hint, "%s", why ? why : "source database: cannot open an export connection");
        free(why);
        free(hint);
        if (w)
            w->retries = c->retries;
        ok = w && mysql_conn_exec(w, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ") &&
             mysql_conn_exec(w, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
        if (w && !ok) {
            m->pool_errno = w->last_errno;
            mysql_conn_close(w);
        } else if (ok) {
            m->pool[m->npool++] = w;
        }
    }
    unlock_tables(m);
    if (!ok) {
        pool_close(m);
        free(name);
        return NULL;
    }
    log_info("source database: consistent snapshot at %s taken for %zu export connection(s)", name,
             m->npool);
    return name;
}

static char *my_snapshot_begin(source *s) { return take_snapshot(s, NULL); }

/* compare data: the same snapshot for its workers (at most MYSQL_POOL_MAX). */
static char *my_snapshot_begin_readers(source *s, int *readers)
{
    my_source *m = my_of(s);
    m->readers = *readers;
    char *name = take_snapshot(s, NULL);
    m->readers = 0;
    *readers = (int)m->npool;
    return name;
}

static void my_snapshot_end(source *s, bool commit)
{
    (void)commit; /* read-only transactions: nothing to keep */
    my_source *m = my_of(s);
    pool_close(m);
    m->pool_errno = 0; /* control_lost answered for this run */
    mysql_conn_close(m->c);
    m->c = NULL;
}

static bool my_read_sequences(source *s, const char *snapshot, const strlist *schemas,
                              sequence_value **out, size_t *n)
{
    (void)snapshot;
    (void)schemas;
    my_source *m = my_of(s);
    *out = xcalloc(m->nseqs + 1, sizeof **out);
    *n = m->nseqs;
    for (size_t i = 0; i < m->nseqs; i++) {
        (*out)[i] = m->seqs[i];
        (*out)[i].schema = xstrdup(m->seqs[i].schema);
        (*out)[i].name = xstrdup(m->seqs[i].name);
    }
    return true;
}

/* ---- the rows ---- */

static int my_rows_parts(source *s, const src_table *t, int64_t part_bytes, int max_parts)
{
    (void)s, (void)t, (void)part_bytes, (void)max_parts;
    return 1; /* one reader per table: a split by key range is not built */
}

static source_rows *my_rows_open(source *s, const char *snapshot, bool *transient)
{
    (void)snapshot;
    *transient = false;
    my_source *m = my_of(s);
    pthread_mutex_lock(&m->mu);
    mysql_conn *c = m->next < m->npool ? m->pool[m->next++] : NULL;
    pthread_mutex_unlock(&m->mu);
    if (!c) {
        char *hint = xasprintf("lower --parallel-jobs to %zu", m->npool);
        log_report(LOG_ERROR, NULL, hint,
                   "source database: the MySQL snapshot has %zu connection(s) and all are in use", m->npool);
        free(hint);
        return NULL;
    }
    source_rows *r = xcalloc(1, sizeof *r);
    r->m = m;
    r->database = s->conf->name;
    r->c = c;
    return r;
}

static void my_rows_close(source_rows *r)
{
    if (!r)
        return;
    mysql_conn_close(r->c); /* ends the read-only transaction */
    free(r);
}

/* COPY text escaping of len bytes. */
static void copy_escape(strbuf *b, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        switch (ch) {
        case '\\': strbuf_append(b, "\\\\"); break;
        case '\n': strbuf_append(b, "\\n"); break;
        case '\r': strbuf_append(b, "\\r"); break;
        case '\t': strbuf_append(b, "\\t"); break;
        default: strbuf_append_char(b, ch);
        }
    }
}

static bool is_binary_type(const char *t)
{
    static const char *const names[] = {"binary", "varbinary", "tinyblob", "blob", "mediumblob",
                                        "longblob", "geometry", "point", "linestring", "polygon",
                                        "multipoint", "multilinestring", "multipolygon",
                                        "geometrycollection"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (str_eq(t, names[i]))
            return true;
    return false;
}

/* "YYYY-MM-DD..." with a zero year, month or day (MySQL's zero dates): PostgreSQL has none. */
static bool zero_date(const char *v, size_t len)
{
    if (len < 10)
        return false;
    return strncmp(v, "0000", 4) == 0 || strncmp(v + 5, "00", 2) == 0 || strncmp(v + 8, "00", 2) == 0;
}

typedef struct refusal {
    const mysql_column *col;
    char value[80];
    const char *why;
    const char *fix;
} refusal;

/* How a value arrives: a SELECT's text (the snapshot) or a binlog row image (the change feed). */
typedef enum value_from { FROM_SELECT, FROM_BINLOG } value_from;

/* The MariaDB INET4/INET6/UUID columns' 4/16 bytes of a binlog image in their text form. */
static bool append_binary_form(strbuf *b, const char *t, const unsigned char *v, size_t len)
{
    char buf[64];
    if (str_eq(t, "inet4") && len == 4 && inet_ntop(AF_INET, v, buf, sizeof buf)) {
        strbuf_append(b, buf);
        return true;
    }
    if (str_eq(t, "inet6") && len == 16 && inet_ntop(AF_INET6, v, buf, sizeof buf)) {
        strbuf_append(b, buf);
        return true;
    }
    if (str_eq(t, "uuid") && len == 16) {
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                strbuf_append_char(b, '-');
            strbuf_append_char(b, hex[v[i] >> 4]);
            strbuf_append_char(b, hex[v[i] & 15]);
        }
        return true;
    }
    return false;
}

/*
 * Append value v (len bytes, not NULL) of col in the target's text form; false: refused (*why).
 * copy: escaped for a text COPY line (the snapshot's data files), else the bare text (a change).
 */
static bool append_value(strbuf *b, const mysql_column *col, const char *v, size_t len, refusal *why,
                         value_from from, bool copy)
{
    const char *t = col->data_type;
    if (str_eq(t, "bit") && from == FROM_SELECT) {
        long long n = col->length > 0 ? col->length : 1;
        unsigned long long x = 0;
        for (size_t i = 0; i < len; i++)
            x = (x << 8) | (unsigned char)v[i];
        for (long long i = n - 1; i >= 0; i--)
            strbuf_append_char(b, (x >> i) & 1 ? '1' : '0');
        return true;
    }
    /*
     * The binlog carries fixed-size binary values without their trailing zero bytes (BINARY(n),
     * and MariaDB's INET4/INET6/UUID, which it carries as their binary storage, not as the text
     * a SELECT gives): put the zeros back first.
     */
    unsigned char fixed[256];
    size_t width = str_eq(t, "inet4") ? 4
                   : str_eq(t, "inet6") || str_eq(t, "uuid") ? 16
                   : str_eq(t, "binary") && col->length > 0 && col->length <= 255 ? (size_t)col->length
                                                                                  : 0;
    if (from == FROM_BINLOG && width && len < width) {
        memset(fixed, 0, width);
        memcpy(fixed, v, len);
        v = (const char *)fixed;
        len = width;
    }
    if (from == FROM_BINLOG && (str_eq(t, "inet4") || str_eq(t, "inet6") || str_eq(t, "uuid")) &&
        append_binary_form(b, t, (const unsigned char *)v, len))
        return true;
    if (is_binary_type(t)) {
        static const char hex[] = "0123456789abcdef";
        strbuf_append(b, copy ? "\\\\x" : "\\x");
        for (size_t i = 0; i < len; i++) {
            strbuf_append_char(b, hex[(unsigned char)v[i] >> 4]);
            strbuf_append_char(b, hex[(unsigned char)v[i] & 15]);
        }
        return true;
    }
    if (str_eq(t, "date") || str_eq(t, "datetime") || str_eq(t, "timestamp")) {
        if (zero_date(v, len)) {
            why->why = "is a zero date, which PostgreSQL has no value for";
            why->fix = from == FROM_SELECT
                           ? "update those rows to NULL or a real date on the source (or export without "
                             "the table), then run export data again"
                           : "keep zero dates out of the source while it is migrated live (sql_mode with "
                             "NO_ZERO_DATE, NO_ZERO_IN_DATE), then start the migration again with --start-clean";
            snprintf(why->value, sizeof why->value, "%.*s", (int)(len < 40 ? len : 40), v);
            return false;
        }
        strbuf_appendf(b, "%.*s%s", (int)len, v, str_eq(t, "timestamp") ? "+00" : "");
        return true;
    }
    if (str_eq(t, "time")) {
        long h = v[0] == '-' ? -1 : strtol(v, NULL, 10);
        bool zero_rest = true;
        for (const char *q = strchr(v, ':'); q && *q; q++)
            if (*q >= '1' && *q <= '9')
                zero_rest = false;
        if (h < 0 || h > 24 || (h == 24 && !zero_rest)) {
            why->why = "is outside PostgreSQL's time range (00:00:00 to 24:00:00)";
            why->fix = from == FROM_SELECT
                           ? "change the target column to interval (edit the exported schema) or update "
                             "those rows on the source, then run export data again"
                           : "change the target column to interval (edit the exported schema) and start "
                             "the migration again with --start-clean";
            snprintf(why->value, sizeof why->value, "%.*s", (int)(len < 40 ? len : 40), v);
            return false;
        }
        strbuf_append_len(b, v, len);
        return true;
    }
    if (memchr(v, '\0', len)) {
        why->why = "holds a zero byte, which PostgreSQL text cannot store";
        why->fix = "remove the zero bytes on the source (or make the column VARBINARY/BLOB), then "
                   "run export data again";
        snprintf(why->value, sizeof why->value, "(%zu bytes)", len);
        return false;
    }
    if (copy)
        copy_escape(b, v, len);
    else
        strbuf_append_len(b, v, len);
    return true;
}

/*
 * The rows of t (those of where: a condition of ours, no input in it; "" for all) as COPY lines.
 * mt: t's table in the catalog.
 */
static source_rows_result rows_select(source_rows *r, const src_table *t, const mysql_table *mt,
                                      const char *where, int64_t stall_ms, const source_rows_sink *sink)
{
    const mysql_column **cols = xcalloc(mt->ncolumns + 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t k = 0; k < mt->ncolumns; k++)
        if (copied(&mt->columns[k]))
            cols[ncols++] = &mt->columns[k];
    char *from = mysql_quote_qualified(r->database, mt->name);
    char *sql = xasprintf("SELECT %s FROM %s%s%s", t->column_list, from, where[0] ? " WHERE " : "", where);
    free(from);
    MYSQL *my = r->c->my;
    source_rows_result rc = SOURCE_ROWS_DONE;
    MYSQL_RES *res = NULL;
    strbuf line = STRBUF_INIT;
    int64_t last = now_monotonic_ms();
    if (mysql_real_query(my, sql, strlen(sql)) != 0 || !(res = mysql_use_result(my)))
        goto failed;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *lens = mysql_fetch_lengths(res);
        strbuf_reset(&line);
        for (size_t i = 0; i < ncols; i++) {
            if (i)
                strbuf_append_char(&line, '\t');
            if (!row[i]) {
                strbuf_append(&line, "\\N");
                continue;
            }
            refusal why = {.col = cols[i]};
            if (!append_value(&line, cols[i], row[i], lens[i], &why, FROM_SELECT, true)) {
                log_report(LOG_ERROR, NULL, why.fix, "source database: table %s, column %s: the value %s %s",
                           mt->name, cols[i]->name, why.value, why.why);
                rc = SOURCE_ROWS_FAILED;
                goto out;
            }
        }
        strbuf_append_char(&line, '\n');
        if (!sink->row(sink->arg, line.data, line.len) || sink->stop(sink->arg)) {
            rc = SOURCE_ROWS_STOPPED;
            goto out;
        }
        last = now_monotonic_ms();
    }
    if (mysql_errno(my) == 0)
        goto out;
failed: {
    unsigned int e = mysql_errno(my);
    if (e == CR_SERVER_LOST && now_monotonic_ms() - last >= stall_ms - 1000) {
        rc = SOURCE_ROWS_STALLED;
        goto out;
    }
    if (r->c->statement_timeout_s && mysql_errno_statement_timeout(e)) {
        char *what = xasprintf("reading table %s", sink->table);
        mysql_conn_report_statement_timeout(r->c, e, what);
        free(what);
        rc = SOURCE_ROWS_FAILED;
        goto out;
    }
    bool lost = mysql_errno_lost(e);
    log_msg(lost ? LOG_WARN : LOG_ERROR, "source database: exporting table %s: %s (error %u)",
            sink->table, mysql_error(my), e);
    rc = lost ? SOURCE_ROWS_TRANSIENT : SOURCE_ROWS_FAILED;
}
out:
    if (res) {
        /* Stopped early: cut the connection so that freeing the result does not read the rest. */
        if (rc != SOURCE_ROWS_DONE)
            mariadb_cancel(my);
        mysql_free_result(res);
    }
    strbuf_free(&line);
    free(sql);
    free(cols);
    return rc;
}

static source_rows_result my_rows_read(source_rows *r, const src_table *t, int part, int nparts,
                                       int64_t stall_ms, const source_rows_sink *sink)
{
    (void)part, (void)nparts;
    const mysql_table *mt = table_of(r->m, t->name);
    if (!mt) {
        log_error("source database: table %s is not in the catalog read at the start of the run", t->name);
        return SOURCE_ROWS_FAILED;
    }
    return rows_select(r, t, mt, "", stall_ms, sink);
}

/* Is v all characters of ok (and not empty)? */
static bool only_chars(const char *v, const char *ok)
{
    return *v && strspn(v, ok) == strlen(v);
}

/*
 * A bound of a compare data range as a MySQL literal (caller frees), NULL when the text is not
 * of the form its kind promises (source.h): nothing of it is pasted unchecked. Text and bytes go
 * as hex literals, whatever they hold.
 */
static char *bound_literal(source_key_kind kind, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(v);
    switch (kind) {
    case SOURCE_KEY_INTEGER: {
        int64_t x;
        return parse_int64(v, INT64_MIN, INT64_MAX, &x) ? xasprintf("%" PRId64, x) : NULL;
    }
    case SOURCE_KEY_NUMERIC: {
        const char *d = v + (*v == '-');
        size_t intd = strspn(d, "0123456789");
        if (!intd || (d[intd] && (d[intd] != '.' || !only_chars(d + intd + 1, "0123456789"))))
            return NULL;
        return xstrdup(v);
    }
    case SOURCE_KEY_TEXT: {
        strbuf b = STRBUF_INIT;
        strbuf_append(&b, "X'");
        for (size_t i = 0; i < n; i++) {
            strbuf_append_char(&b, hex[(unsigned char)v[i] >> 4]);
            strbuf_append_char(&b, hex[(unsigned char)v[i] & 15]);
        }
        strbuf_append_char(&b, '\'');
        return strbuf_detach(&b);
    }
    case SOURCE_KEY_BYTES:
        if (n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2 != 0 || (n > 2 && !only_chars(v + 2, "0123456789abcdefABCDEF")))
            return NULL;
        return xasprintf("X'%s'", v + 2);
    case SOURCE_KEY_DATE:
    case SOURCE_KEY_TIMESTAMP:
    case SOURCE_KEY_TIMESTAMPTZ: {
        size_t len = n;
        if (kind == SOURCE_KEY_TIMESTAMPTZ) {
            if (n < 3 || strcmp(v + n - 3, "+00") != 0)
                return NULL;
            len -= 3;
        }
        /* YYYY-MM-DD, then " HH:MM:SS" and an optional fraction for the timestamps */
        bool ok = len >= 10 && strspn(v, "0123456789") == 4 && v[4] == '-' && v[7] == '-' &&
                  strspn(v + 5, "0123456789") == 2 && strspn(v + 8, "0123456789") == 2;
        if (kind == SOURCE_KEY_DATE)
            ok = ok && len == 10;
        else
            ok = ok && len >= 19 && v[10] == ' ' && v[13] == ':' && v[16] == ':' &&
                 strspn(v + 11, "0123456789") == 2 && strspn(v + 14, "0123456789") == 2 &&
                 strspn(v + 17, "0123456789") == 2 &&
                 (len == 19 || (v[19] == '.' && len > 20 && len <= 26 && strspn(v + 20, "0123456789") == len - 20));
        return ok ? xasprintf("'%.*s'", (int)len, v) : NULL;
    }
    }
    return NULL;
}

/*
 * The WHERE condition of a compare data range, in MySQL's SQL, comparing as the target does
 * (source_key_kind): text by its UTF-8 bytes (no collation, no PAD SPACE), bytes by bytes,
 * numbers and dates by value (the session is in UTC). "" for every row; NULL after logging.
 */
static char *range_condition(const mysql_table *mt, const src_table *t, const source_key_range *k)
{
    if (!k || !k->key)
        return xstrdup("");
    const mysql_column *kc = NULL;
    for (size_t c = 0; c < mt->ncolumns && !kc; c++) {
        char *raw = mysql_ddl_raw_name(mt->columns[c].name);
        if (strcmp(raw, k->key) == 0)
            kc = &mt->columns[c];
        free(raw);
    }
    if (!kc) {
        log_error("source database: table %s has no column %s (the target's key column)", t->name, k->key);
        return NULL;
    }
    char *q = mysql_quote_ident(kc->name);
    char *col = k->kind == SOURCE_KEY_TEXT    ? xasprintf("CAST(CONVERT(%s USING utf8mb4) AS BINARY)", q)
                : k->kind == SOURCE_KEY_BYTES ? xasprintf("CAST(%s AS BINARY)", q)
                                              : xstrdup(q);
    free(q);
    char *lo = k->lo ? bound_literal(k->kind, k->lo) : NULL;
    char *hi = k->hi ? bound_literal(k->kind, k->hi) : NULL;
    char *where = NULL;
    if ((k->lo && !lo) || (k->hi && !hi))
        log_bug("table %s: a key range bound of column %s is not of its kind (%d): %.60s", t->name, k->key,
                (int)k->kind, k->lo && !lo ? k->lo : k->hi);
    else if (lo && hi)
        where = xasprintf("%s >= %s AND %s < %s", col, lo, col, hi);
    else if (lo || hi)
        where = xasprintf("%s %s %s", col, lo ? ">=" : "<", lo ? lo : hi);
    else
        where = xstrdup("");
    free(col);
    free(lo);
    free(hi);
    return where;
}

/* The table of a compare read and the WHERE of its range (caller frees); NULL logged. */
static char *range_where(source_rows *r, const src_table *t, const source_key_range *k, const mysql_table **mt)
{
    *mt = table_of(r->m, t->name);
    if (!*mt) {
        log_error("source database: table %s is not in the catalog read at the start of the run", t->name);
        return NULL;
    }
    return range_condition(*mt, t, k);
}

static source_rows_result my_rows_read_key_range(source_rows *r, const src_table *t, const source_key_range *k,
                                                 int64_t stall_ms, const source_rows_sink *sink)
{
    const mysql_table *mt = NULL;
    char *where = range_where(r, t, k, &mt);
    if (!where)
        return SOURCE_ROWS_FAILED;
    source_rows_result rc = rows_select(r, t, mt, where, stall_ms, sink);
    free(where);
    return rc;
}

/* compare data: the rows of an integer key range (source.h); the bounds are numbers. */
static source_rows_result my_rows_read_range(source_rows *r, const src_table *t, const char *key,
                                             const int64_t *lo, const int64_t *hi, int64_t stall_ms,
                                             const source_rows_sink *sink)
{
    char l[24], h[24];
    snprintf(l, sizeof l, "%" PRId64, lo ? *lo : 0);
    snprintf(h, sizeof h, "%" PRId64, hi ? *hi : 0);
    source_key_range k = {.key = key, .kind = SOURCE_KEY_INTEGER, .lo = lo ? l : NULL, .hi = hi ? h : NULL};
    return my_rows_read_key_range(r, t, &k, stall_ms, sink);
}

/* compare data --level count: COUNT(*) of the range in the reader's snapshot. */
static source_rows_result my_rows_count_key_range(source_rows *r, const src_table *t, const source_key_range *k,
                                                  int64_t stall_ms, int64_t *count)
{
    const mysql_table *mt = NULL;
    char *where = range_where(r, t, k, &mt);
    if (!where)
        return SOURCE_ROWS_FAILED;
    char *from = mysql_quote_qualified(r->database, mt->name);
    char *sql = xasprintf("SELECT COUNT(*) FROM %s%s%s", from, where[0] ? " WHERE " : "", where);
    free(from);
    free(where);
    MYSQL *my = r->c->my;
    int64_t started = now_monotonic_ms();
    source_rows_result rc = SOURCE_ROWS_DONE;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    if (mysql_real_query(my, sql, strlen(sql)) == 0 && (res = mysql_store_result(my)) &&
        (row = mysql_fetch_row(res)) && row[0]) {
        *count = strtoll(row[0], NULL, 10);
    } else {
        unsigned int e = mysql_errno(my);
        if (e == CR_SERVER_LOST && now_monotonic_ms() - started >= stall_ms - 1000) {
            rc = SOURCE_ROWS_STALLED;
        } else if (r->c->statement_timeout_s && mysql_errno_statement_timeout(e)) {
            char *what = xasprintf("counting the rows of table %s", t->name);
            mysql_conn_report_statement_timeout(r->c, e, what);
            free(what);
            rc = SOURCE_ROWS_FAILED;
        } else {
            bool lost = mysql_errno_lost(e);
            log_msg(lost ? LOG_WARN : LOG_ERROR, "source database: counting the rows of table %s: %s (error %u)",
                    t->name, e ? mysql_error(my) : "no count returned", e);
            rc = lost ? SOURCE_ROWS_TRANSIENT : SOURCE_ROWS_FAILED;
        }
    }
    if (res)
        mysql_free_result(res);
    free(sql);
    return rc;
}

/* ---- the change feed ----
 *
 * MySQL has no replication slot: the feed is the binlog position the snapshot was taken at,
 * kept in the migration's status record (MYSQL_FEED_KEY) until cutover ends the stream or
 * --start-clean drops it; the binlog itself is the server's, kept as long as its
 * expire_logs_days / binlog_expire_logs_seconds say (a purged file is an error naming the fix).
 *
 * Positions: src_position = binlog file index << 32 | offset of the next event in that file (an
 * event's position is 32 bits in the binlog format), so they order as the binlog does; the base
 * name of the files ("binlog" of "binlog.000003") is kept beside the start position. Every
 * transaction is handed with commit = end - 1 and end = the position after its XID event: a
 * stream restarted after the queue's end resumes exactly there (nothing already queued comes
 * again, nothing after it is skipped).
 *
 * The stream: a reader thread runs the blocking binlog reader (source/mysql/mysql_binlog.h) on a
 * replication connection of its own and hands each committed transaction, and each heartbeat
 * the server sends after MYSQL_HEARTBEAT_MS of silence, to feed_poll through a one-place slot;
 * it waits until the engine has taken it (the transaction's memory is the reader's until then).
 * A heartbeat is a keepalive at the position everything before has been sent: cutover drains
 * up to SHOW MASTER STATUS, read on a second (query) connection. A broken connection ends the
 * thread quietly (SOURCE_LOST); feed_disconnect shuts the socket down (mariadb_cancel) so that a
 * reader blocked on a silent server returns, then joins it.
 */
#define MYSQL_FEED_KEY "MySQLBinlogFeed"
/* The captured tables' columns when the feed started: {"table": "col type, ..."} (feed_layout_check). */
#define MYSQL_LAYOUT_KEY "MySQLBinlogLayout"
#define MYSQL_HEARTBEAT_MS 1000
/* Heartbeats come every second while idle: this much silence is a dead server or network. */
#define MYSQL_SILENCE_MS 30000
/* Oldest MariaDB whose binlog this reader decodes (GTID events, FULL row images, heartbeats). */
#define MYSQL_MIN_MARIADB 100300

/* A text type whose binlog value is in its own character set. */
static bool is_text_type(const char *t)
{
    static const char *const names[] = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (str_eq(t, names[i]))
            return true;
    return false;
}

/*
 * The binlog carries a text column's bytes in the column's character set (a SELECT converts them
 * to the session's utf8mb4 with the server's tables): does col need decoding to UTF-8
 * (source/mysql/mysql_charset.h)?
 */
static bool needs_decoding(const mysql_column *col)
{
    return is_text_type(col->data_type) && mysql_charset_kind_of(col->charset) != MYSQL_CHARSET_UTF8;
}

typedef struct feed_table {
    const mysql_table *t; /* the catalog's */
    char *name;           /* the target's table name */
    size_t ncols;         /* columns handed on (stored ones: a generated column is the target's) */
    size_t *from;         /* their index in t->columns */
    char **names;         /* their target names */
    size_t *key;          /* the primary key, as indexes into names */
    size_t nkey;
    const mysql_charset **dec; /* per handed-on column: its text's decoder (the feed's), NULL: none */
} feed_table;

typedef enum slot_kind { SLOT_EMPTY, SLOT_TXN, SLOT_IDLE } slot_kind;

typedef struct my_feed {
    strlist tables;   /* the target names of the captured tables (feed_init) */
    char *name, *detail;
    feed_table *ft;   /* built at feed_connect from the catalog */
    size_t nft;
    char base[200];   /* binlog file base name */
    bool ever_connected;
    mysql_conn *qc;   /* query connection: drain point, sequences */
    mysql_conn *rc;   /* replication connection, the reader thread's */
    char *describe;
    /* the reader thread and its hand-off */
    pthread_t th;
    bool running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mysql_binlog_opts o;
    slot_kind slot;
    const mysql_binlog_txn *txn;
    mysql_binlog_pos at;
    bool ended, ended_ok, stop;
    char lost[400];
    mysql_charset **decs; /* one per character set of a captured text column (feed_prepare) */
    size_t ndecs;
} my_feed;

static my_feed *feed_of(source *s)
{
    my_source *m = my_of(s);
    if (!m->feed) {
        m->feed = xcalloc(1, sizeof *m->feed);
        pthread_mutex_init(&m->feed->mu, NULL);
        pthread_cond_init(&m->feed->cv, NULL);
    }
    return m->feed;
}

static src_position pos_encode(const mysql_binlog_pos *p)
{
    const char *dot = strrchr(p->file, '.');
    unsigned long long idx = dot ? strtoull(dot + 1, NULL, 10) : 0;
    return (src_position)(idx << 32 | (p->offset & 0xffffffffULL));
}

static void pos_decode(const char *base, src_position v, mysql_binlog_pos *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->file, sizeof p->file, "%s.%06u", base, (unsigned)(v >> 32));
    p->offset = v & 0xffffffffULL;
}

/* The stored start ("base" and position), false when there is none. */
static bool feed_start_get(source *s, char *base, size_t nbase, src_position *start)
{
    char *v = catalog_status_get_string(s->eng->cat, MYSQL_FEED_KEY);
    bool ok = false;
    if (v) {
        char *sp = strrchr(v, ' ');
        if (sp) {
            snprintf(base, nbase, "%.*s", (int)(sp - v), v);
            *start = strtoull(sp + 1, NULL, 10);
            ok = *start != 0;
        }
    }
    free(v);
    return ok;
}

static bool drop_key(cJSON *rec, void *arg)
{
    (void)arg;
    cJSON_DeleteItemFromObjectCaseSensitive(rec, MYSQL_FEED_KEY);
    cJSON_DeleteItemFromObjectCaseSensitive(rec, MYSQL_LAYOUT_KEY);
    return true;
}

/* A table's columns as the binlog reader matches them: "name type, ..." in ordinal order (caller frees). */
static char *table_layout(const mysql_table *t)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    for (size_t k = 0; k < t->ncolumns; k++)
        strbuf_appendf(&sb, "%s%s %s", k ? ", " : "", t->columns[k].name, t->columns[k].column_type);
    return strbuf_detach(&sb);
}

/* The captured tables' layouts when the feed starts (MYSQL_LAYOUT_KEY), for the check on every connect. */
static bool feed_layout_store(source *s, my_feed *f)
{
    my_source *m = my_of(s);
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; m->have_cat && i < f->tables.count; i++) {
        const mysql_table *t = table_of(m, f->tables.items[i]);
        if (!t)
            continue;
        char *l = table_layout(t);
        cJSON_AddStringToObject(o, t->name, l);
        free(l);
    }
    bool ok = catalog_status_set_json(s->eng->cat, MYSQL_LAYOUT_KEY, o);
    cJSON_Delete(o);
    return ok;
}

/*
 * The catalog is read again whenever export data starts, and the binlog from the queue's position
 * on is decoded with it: a table whose columns changed since the feed started (a DDL while export
 * data was down, or one that stopped the stream) would have its older rows matched to the new
 * columns, which a swap of two columns of one type does not show in the binlog. False (logged).
 * An export dir from before the layouts were kept has none: nothing to compare.
 */
static bool feed_layout_check(source *s, my_feed *f)
{
    my_source *m = my_of(s);
    cJSON *rec = catalog_status_load(s->eng->cat);
    const cJSON *o = rec ? cJSON_GetObjectItemCaseSensitive(rec, MYSQL_LAYOUT_KEY) : NULL;
    strbuf bad = STRBUF_INIT;
    for (size_t i = 0; cJSON_IsObject(o) && m->have_cat && i < f->tables.count; i++) {
        const mysql_table *t = table_of(m, f->tables.items[i]);
        const cJSON *was = t ? cJSON_GetObjectItemCaseSensitive(o, t->name) : NULL;
        if (!cJSON_IsString(was))
            continue;
        char *now = table_layout(t);
        if (!str_eq(now, was->valuestring))
            strbuf_appendf(&bad, "%s%s (was: %s; now: %s)", bad.len ? "; " : "", t->name, was->valuestring, now);
        free(now);
    }
    cJSON_Delete(rec);
    if (bad.len)
        log_report(LOG_ERROR, "the binlog from where the stream continues would be matched to the new columns",
                   "apply the change to the target too, then start the migration again with --start-clean",
                   "source database: table columns changed since export data started: %s", bad.data);
    bool ok = bad.len == 0;
    strbuf_free(&bad);
    return ok;
}

static void feed_tables_free(my_feed *f)
{
    for (size_t i = 0; i < f->nft; i++) {
        feed_table *t = &f->ft[i];
        free(t->name);
        for (size_t k = 0; k < t->ncols; k++)
            free(t->names[k]);
        free(t->names);
        free(t->from);
        free(t->key);
        free(t->dec);
    }
    free(f->ft);
    f->ft = NULL;
    f->nft = 0;
}

/* The decoder feed_prepare read for character set cs, NULL when it has none. */
static const mysql_charset *decoder_of(const my_feed *f, const char *cs)
{
    for (size_t i = 0; i < f->ndecs; i++)
        if (str_case_eq(mysql_charset_name(f->decs[i]), cs))
            return f->decs[i];
    return NULL;
}

/* The captured tables from the catalog; false (logged) when one has gone. */
static bool feed_tables_build(source *s, my_feed *f)
{
    my_source *m = my_of(s);
    feed_tables_free(f);
    f->ft = xcalloc(f->tables.count + 1, sizeof *f->ft);
    for (size_t i = 0; i < f->tables.count; i++) {
        const mysql_table *mt = m->have_cat ? table_of(m, f->tables.items[i]) : NULL;
        if (!mt) {
            log_error("source database: table %s is not in the database any more", f->tables.items[i]);
            return false;
        }
        feed_table *t = &f->ft[f->nft++];
        t->t = mt;
        t->name = xstrdup(f->tables.items[i]);
        t->from = xcalloc(mt->ncolumns + 1, sizeof *t->from);
        t->names = xcalloc(mt->ncolumns + 1, sizeof *t->names);
        t->key = xcalloc(mt->ncolumns + 1, sizeof *t->key);
        t->dec = xcalloc(mt->ncolumns + 1, sizeof *t->dec);
        for (size_t k = 0; k < mt->ncolumns; k++) {
            const mysql_column *col = &mt->columns[k];
            if (!copied(col))
                continue;
            if (needs_decoding(col) && !(t->dec[t->ncols] = decoder_of(f, col->charset))) {
                log_error("BUG: source database: table %s, column %s: no decoder for character set %s (feed_prepare "
                          "reads one for every captured text column)",
                          mt->name, col->name, col->charset ? col->charset : "?");
                return false;
            }
            t->from[t->ncols] = k;
            t->names[t->ncols++] = mysql_ddl_raw_name(col->name);
        }
        const mysql_index *pk = mt->nindexes && mt->indexes[0].primary ? &mt->indexes[0] : NULL;
        for (size_t p = 0; pk && p < pk->nparts; p++)
            for (size_t k = 0; k < t->ncols; k++)
                if (pk->parts[p].column && str_eq(mt->columns[t->from[k]].name, pk->parts[p].column))
                    t->key[t->nkey++] = k;
    }
    return true;
}

static void my_feed_init(source *s, const source_feed_spec *spec, const char **name, const char **detail)
{
    my_feed *f = feed_of(s);
    strlist_free(&f->tables);
    for (size_t i = 0; spec->tables && i < spec->tables->count; i++)
        strlist_push(&f->tables, spec->tables->items[i]);
    free(f->name);
    free(f->detail);
    f->name = xasprintf("position of database %s", s->conf->name ? s->conf->name : "");
    f->detail = xstrdup("kept in the export dir");
    *name = f->name;
    *detail = f->detail;
}

static engine_status my_feed_find(source *s, bool *exists)
{
    char base[200];
    src_position start;
    *exists = feed_start_get(s, base, sizeof base, &start);
    return ENGINE_OK;
}

/* A server variable's value (caller frees); "" when NULL, unknown or unreadable (that is logged). */
static char *global_var(mysql_conn *c, const char *sql)
{
    char *v = mysql_conn_query_value(c, sql, 0, NULL, NULL);
    return v ? v : xstrdup("");
}

/* The privileges the current user holds globally (and, with db, on the database). */
static bool user_privileges(mysql_conn *c, const char *db, strlist *global, strlist *on_db)
{
    static const char grantee[] =
        "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', "
        "SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    char *sql = xasprintf("SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = %s",
                          grantee);
    mysql_rows r = MYSQL_ROWS_INIT;
    bool ok = mysql_conn_query(c, sql, 0, NULL, &r);
    for (size_t i = 0; ok && i < r.nrows; i++)
        strlist_push(global, mysql_rows_get(&r, i, 0));
    mysql_rows_free(&r);
    free(sql);
    sql = xasprintf("SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = %s "
                    "AND TABLE_SCHEMA = ?",
                    grantee);
    const char *p[1] = {db};
    ok = ok && mysql_conn_query(c, sql, 1, p, &r);
    for (size_t i = 0; ok && i < r.nrows; i++)
        strlist_push(on_db, mysql_rows_get(&r, i, 0));
    mysql_rows_free(&r);
    free(sql);
    return ok;
}

/*
 * A decoder for every character set of a captured text column that is not UTF-8, each legacy
 * set's table read from the server (one query per set, each time export data starts: the
 * tables are the server's, and a server upgrade may change them). Kept by the feed for
 * feed_poll, which converts with lookups only. False after a logged error.
 */
static bool feed_decoders_load(source *s, my_feed *f, mysql_conn *c)
{
    my_source *m = my_of(s);
    for (size_t i = 0; m->have_cat && i < f->tables.count; i++) {
        const mysql_table *t = table_of(m, f->tables.items[i]);
        for (size_t k = 0; t && k < t->ncolumns; k++) {
            const mysql_column *col = &t->columns[k];
            if (!copied(col) || !needs_decoding(col) || decoder_of(f, col->charset))
                continue;
            mysql_charset *d = mysql_charset_load(c, col->charset);
            if (!d)
                return false;
            f->decs = xrealloc(f->decs, (f->ndecs + 1) * sizeof *f->decs);
            f->decs[f->ndecs++] = d;
        }
    }
    return true;
}

/*
 * What reading the binlog needs, each failure logged with its fix, before anything is written:
 * the server (MariaDB 10.3+), log_bin, binlog_format ROW, binlog_row_image FULL, a server_id,
 * the grants, InnoDB and a primary key for every captured table.
 */
static engine_status my_feed_prepare(source *s, bool new_feed, bool update)
{
    (void)new_feed, (void)update;
    my_source *m = my_of(s);
    my_feed *f = feed_of(s);
    mysql_conn *c = my_control(s);
    if (!c)
        return ENGINE_SOURCE_FAILED;
    bool ok = true;
    if (!c->is_mariadb || c->server_version_num < MYSQL_MIN_MARIADB) {
        log_report(LOG_ERROR,
                   c->is_mariadb ? "the binlog reader decodes MariaDB 10.3 and later (tested with 10.11)"
                                 : "the binlog reader decodes MariaDB's binlog (tested with 10.11); MySQL's "
                                   "binary JSON and GTID events are not decoded",
                   "use --export-type snapshot-only for this server, or upgrade it to MariaDB 10.11",
                   "source database: server version %s is not supported for live migration",
                   c->server_version ? c->server_version : "?");
        return ENGINE_SOURCE_FAILED;
    }
    char *log_bin = global_var(c, "SELECT @@global.log_bin");
    char *format = global_var(c, "SELECT @@global.binlog_format");
    char *image = global_var(c, "SELECT @@global.binlog_row_image");
    char *sid = global_var(c, "SELECT @@global.server_id");
    if (!str_eq(log_bin, "1")) {
        log_report(LOG_ERROR, "live migration reads the changes from the binary log",
                   "start the server with log_bin (in my.cnf [mariadbd]: log_bin = mysql-bin, "
                   "binlog_format = ROW, binlog_row_image = FULL), then run export data again",
                   "source database: the binary log is off (log_bin = %s)", log_bin);
        ok = false;
    } else {
        if (!str_case_eq(format, "ROW")) {
            log_report(LOG_ERROR, "statement-based binlog events carry no row values",
                       "run SET GLOBAL binlog_format = 'ROW'; (and set it in my.cnf), then reconnect "
                       "the applications so their sessions use it",
                       "source database: binlog_format is %s, not ROW", format);
            ok = false;
        }
        if (!str_case_eq(image, "FULL")) {
            log_report(LOG_ERROR, "updates and deletes must carry every column of the row",
                       "run SET GLOBAL binlog_row_image = 'FULL'; (and set it in my.cnf)",
                       "source database: binlog_row_image is %s, not FULL", image);
            ok = false;
        }
    }
    if (str_eq(sid, "0") || !*sid) {
        log_report(LOG_ERROR, "a server with server_id 0 refuses replication clients",
                   "run SET GLOBAL server_id = 1; (any number not used by another server, and set it in "
                   "my.cnf)",
                   "source database: server_id is 0");
        ok = false;
    }
    free(log_bin), free(format), free(image), free(sid);
    strlist global = STRLIST_INIT, on_db = STRLIST_INIT;
    if (user_privileges(c, s->conf->name, &global, &on_db)) {
        strbuf missing = STRBUF_INIT;
        static const struct {
            const char *priv, *alias;
        } need[] = {{"REPLICATION SLAVE", NULL}, {"REPLICATION CLIENT", "BINLOG MONITOR"}, {"RELOAD", NULL}};
        for (size_t i = 0; i < ARRAY_LEN(need); i++)
            if (!strlist_contains(&global, need[i].priv) && !(need[i].alias && strlist_contains(&global, need[i].alias)))
                strbuf_appendf(&missing, "%s%s", missing.len ? ", " : "", need[i].priv);
        bool select_ok = strlist_contains(&global, "SELECT") || strlist_contains(&on_db, "SELECT");
        if (missing.len || !select_ok) {
            char *q = mysql_quote_ident(s->conf->name);
            strbuf hint = STRBUF_INIT;
            strbuf_append(&hint, "as an administrator run:");
            if (missing.len)
                strbuf_appendf(&hint, " GRANT %s ON *.* TO '%s'@'<client host>';", missing.data, c->user);
            if (!select_ok)
                strbuf_appendf(&hint, " GRANT SELECT ON %s.* TO '%s'@'<client host>';", q, c->user);
            log_report(LOG_ERROR, "live migration reads the binlog as a replica and snapshots under a read lock",
                       hint.data, "source database: user %s lacks %s%s%s", c->user, missing.data ? missing.data : "",
                       missing.len && !select_ok ? ", " : "", select_ok ? "" : "SELECT on the database");
            strbuf_free(&hint);
            free(q);
            ok = false;
        }
        strbuf_free(&missing);
    } else {
        ok = false;
    }
    strlist_free(&global), strlist_free(&on_db);
    strbuf odd = STRBUF_INIT;
    for (size_t i = 0; i < f->tables.count; i++) {
        const mysql_table *t = m->have_cat ? table_of(m, f->tables.items[i]) : NULL;
        for (size_t k = 0; t && k < t->ncolumns; k++) {
            const mysql_column *col = &t->columns[k];
            if (copied(col) && is_text_type(col->data_type) &&
                mysql_charset_kind_of(col->charset) == MYSQL_CHARSET_UNKNOWN)
                strbuf_appendf(&odd, "%s%s.%s (%s)", odd.len ? ", " : "", t->name, col->name,
                               col->charset ? col->charset : "?");
        }
    }
    if (odd.len) {
        log_report(LOG_ERROR, "the binlog carries text in the column's character set, and this one is not converted",
                   "convert the columns to utf8mb4 (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4) or leave the "
                   "tables out with --exclude-table-list",
                   "source database: column(s) in a character set live migration does not read: %s", odd.data);
        ok = false;
    }
    strbuf_free(&odd);
    /*
     * The snapshot's START TRANSACTION WITH CONSISTENT SNAPSHOT covers InnoDB only: a MyISAM, Aria
     * or MEMORY table is read after UNLOCK TABLES, so changes made meanwhile are both in its
     * snapshot and in the binlog (replayed twice), and the way back cannot roll back its writes.
     */
    strbuf notx = STRBUF_INIT, convert = STRBUF_INIT;
    size_t nnotx = 0;
    for (size_t i = 0; i < f->tables.count; i++) {
        const mysql_table *t = m->have_cat ? table_of(m, f->tables.items[i]) : NULL;
        if (!t || (t->engine && str_case_eq(t->engine, "InnoDB")))
            continue;
        nnotx++;
        strbuf_appendf(&notx, "%s%s (%s)", notx.len ? ", " : "", t->name, t->engine ? t->engine : "?");
        char *q = mysql_quote_ident(t->name);
        strbuf_appendf(&convert, " ALTER TABLE %s ENGINE = InnoDB;", q);
        free(q);
    }
    if (nnotx) {
        char *hint = xasprintf("convert them (run:%s), or migrate them offline (--export-type snapshot-only) or "
                               "leave them out with --exclude-table-list",
                               convert.data);
        log_report(LOG_ERROR, "a live migration's consistent snapshot and its way back need transactional (InnoDB) tables",
                   hint, "source database: %zu table(s) not InnoDB: %s", nnotx, notx.data);
        free(hint);
        ok = false;
    }
    strbuf_free(&notx), strbuf_free(&convert);
    strbuf nopk = STRBUF_INIT, fix = STRBUF_INIT;
    size_t nbad = 0;
    for (size_t i = 0; i < f->tables.count; i++) {
        const mysql_table *t = m->have_cat ? table_of(m, f->tables.items[i]) : NULL;
        if (!t || (t->nindexes && t->indexes[0].primary))
            continue;
        nbad++;
        strbuf_appendf(&nopk, "%s%s", nopk.len ? ", " : "", t->name);
        char *q = mysql_quote_ident(t->name);
        strbuf_appendf(&fix, " ALTER TABLE %s ADD PRIMARY KEY (...);", q);
        free(q);
    }
    if (nbad) {
        char *hint = xasprintf("give each a primary key (run:%s) or leave it out with --exclude-table-list",
                               fix.data);
        log_report(LOG_ERROR, "a change is applied to the target by its row's primary key", hint,
                   "source database: %zu table(s) without a primary key: %s", nbad, nopk.data);
        free(hint);
        ok = false;
    }
    strbuf_free(&nopk), strbuf_free(&fix);
    return ok && feed_decoders_load(s, f, c) ? ENGINE_OK : ENGINE_SOURCE_FAILED;
}

static engine_status my_feed_create(source *s, bool with_snapshot, char **snapshot, src_position *start)
{
    my_feed *f = feed_of(s);
    if (snapshot)
        *snapshot = NULL;
    *start = 0;
    mysql_binlog_pos pos;
    char *snap = NULL;
    if (with_snapshot) {
        snap = take_snapshot(s, &pos);
        if (!snap)
            return ENGINE_SOURCE_FAILED;
    } else {
        mysql_conn *c = my_control(s);
        if (!c || !mysql_binlog_current(c, &pos))
            return ENGINE_SOURCE_FAILED;
    }
    const char *dot = strrchr(pos.file, '.');
    snprintf(f->base, sizeof f->base, "%.*s", (int)(dot ? dot - pos.file : (ptrdiff_t)strlen(pos.file)), pos.file);
    *start = pos_encode(&pos);
    char *v = xasprintf("%s %llu", f->base, (unsigned long long)*start);
    bool ok = feed_layout_store(s, f) && catalog_status_set_string(s->eng->cat, MYSQL_FEED_KEY, v);
    free(v);
    if (!ok) {
        free(snap);
        return ENGINE_FAILED;
    }
    log_info("source database: changes will be read from the binlog at %s:%llu", pos.file, pos.offset);
    if (snapshot)
        *snapshot = snap;
    else
        free(snap);
    return ENGINE_OK;
}

static void my_feed_release_snapshot(source *s) { pool_close(my_of(s)); }

/*
 * compare data during a live migration: the readers' snapshot and the binlog position exactly
 * consistent with it. MariaDB tells it per transaction (binlog_snapshot_file / _position, fixed
 * by START TRANSACTION WITH CONSISTENT SNAPSHOT: every transaction committed to the binlog before
 * it is visible, none after). Every reader opened under the same lock must tell the same.
 */
static char *my_snapshot_begin_point(source *s, int *readers, src_position *pos)
{
    my_source *m = my_of(s);
    mysql_conn *c = my_control(s);
    if (!c)
        return NULL;
    if (!c->is_mariadb) {
        log_report(LOG_ERROR, NULL, "compare after cutover to target",
                   "source database: compare data during a live migration needs MariaDB (its "
                   "binlog_snapshot_position); %s is not", c->server_version);
        return NULL;
    }
    char *name = my_snapshot_begin_readers(s, readers);
    if (!name)
        return NULL;
    mysql_binlog_pos first;
    memset(&first, 0, sizeof first);
    bool ok = m->npool > 0;
    for (size_t i = 0; ok && i < m->npool; i++) {
        mysql_rows st = MYSQL_ROWS_INIT;
        ok = mysql_conn_query(m->pool[i], "SHOW STATUS LIKE 'binlog_snapshot_%'", 0, NULL, &st);
        const char *file = NULL, *off = NULL;
        for (size_t r = 0; ok && r < st.nrows; r++) {
            const char *k = mysql_rows_get(&st, r, 0);
            if (k && str_case_eq(k, "Binlog_snapshot_file"))
                file = mysql_rows_get(&st, r, 1);
            else if (k && str_case_eq(k, "Binlog_snapshot_position"))
                off = mysql_rows_get(&st, r, 1);
        }
        if (ok && (!file || !*file || !off)) {
            log_report(LOG_ERROR, NULL, "turn the binary log on (log_bin), as a live migration needs",
                       "source database: the snapshot has no binlog position (binlog_snapshot_file is empty)");
            ok = false;
        }
        mysql_binlog_pos p;
        memset(&p, 0, sizeof p);
        if (ok) {
            snprintf(p.file, sizeof p.file, "%s", file);
            p.offset = strtoull(off, NULL, 10);
        }
        if (ok && i == 0) {
            first = p;
        } else if (ok && (strcmp(p.file, first.file) != 0 || p.offset != first.offset)) {
            log_error("source database: the compare data readers' snapshots are at different binlog "
                      "positions (%s:%llu and %s:%llu)", first.file, first.offset, p.file, p.offset);
            ok = false;
        }
        mysql_rows_free(&st);
    }
    if (!ok) {
        pool_close(m);
        free(name);
        return NULL;
    }
    *pos = pos_encode(&first);
    log_info("source database: the snapshot is at binlog %s:%llu", first.file, first.offset);
    free(name);
    return xasprintf("binlog %s:%llu", first.file, first.offset);
}

static void reader_stop(my_feed *f)
{
    if (f->running) {
        pthread_mutex_lock(&f->mu);
        f->stop = true;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        /* a reader blocked on the socket (a silent server) returns once it is shut down */
        if (f->rc)
            mariadb_cancel(f->rc->my);
        pthread_join(f->th, NULL);
        f->running = false;
    }
    mysql_conn_close(f->rc);
    f->rc = NULL;
    f->slot = SLOT_EMPTY;
    f->txn = NULL;
    f->ended = f->stop = false;
}

static void my_feed_disconnect(source *s)
{
    my_source *m = my_of(s);
    if (!m->feed)
        return;
    reader_stop(m->feed);
    mysql_conn_close(m->feed->qc);
    m->feed->qc = NULL;
}

static bool my_feed_drop(source *s, bool whole)
{
    (void)whole; /* nothing on the server: the binlog is the server's own */
    my_feed_disconnect(s);
    return catalog_status_update(s->eng->cat, drop_key, NULL);
}

/* Hand the engine one item; wait until it has taken it. False: stop reading. */
static bool handoff(my_feed *f, slot_kind kind, const mysql_binlog_txn *txn, const mysql_binlog_pos *at)
{
    pthread_mutex_lock(&f->mu);
    while (f->slot != SLOT_EMPTY && !f->stop)
        pthread_cond_wait(&f->cv, &f->mu);
    if (!f->stop) {
        f->slot = kind;
        f->txn = txn;
        f->at = *at;
        pthread_cond_broadcast(&f->cv);
        while (f->slot != SLOT_EMPTY && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
    }
    bool go_on = !f->stop;
    pthread_mutex_unlock(&f->mu);
    return go_on;
}

static bool reader_txn(void *arg, const mysql_binlog_txn *txn) { return handoff(arg, SLOT_TXN, txn, &txn->commit); }
static bool reader_idle(void *arg, const mysql_binlog_pos *at) { return handoff(arg, SLOT_IDLE, NULL, at); }

static void *reader_main(void *arg)
{
    my_feed *f = arg;
    bool ok = mysql_binlog_stream(f->rc, &f->o, reader_txn, f);
    pthread_mutex_lock(&f->mu);
    f->ended = true;
    f->ended_ok = ok;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* A connection refused: the fault being ridden out once this feed had connected. */
static int feed_connect_failed(source *s, my_feed *f, char *why)
{
    int rc = ENGINE_SOURCE_FAILED;
    /* before the first connection the open was not quiet: it logged the failure with its hint */
    if (f->ever_connected)
        rc = source_lost(s, "%s", why ? why : "cannot connect");
    free(why);
    return rc;
}

/* Is the binlog file still on the server? */
static int binlog_present(source *s, my_feed *f, const char *file, bool *present)
{
    mysql_rows r = MYSQL_ROWS_INIT;
    *present = false;
    if (!mysql_conn_query_quiet(f->qc, "SHOW BINARY LOGS", 0, NULL, &r)) {
        unsigned int e = f->qc->last_errno;
        mysql_rows_free(&r);
        if (f->ever_connected && mysql_errno_lost(e))
            return source_lost(s, "SHOW BINARY LOGS failed (error %u)", e);
        log_error("source database: SHOW BINARY LOGS failed (error %u): %s", e, mysql_error(f->qc->my));
        return ENGINE_SOURCE_FAILED;
    }
    for (size_t i = 0; i < r.nrows; i++)
        if (str_eq(mysql_rows_get(&r, i, 0), file))
            *present = true;
    mysql_rows_free(&r);
    return ENGINE_OK;
}

static int my_feed_connect(source *s, bool stream, src_position after, const char **describe)
{
    my_feed *f = feed_of(s);
    reader_stop(f);
    mysql_conn_close(f->qc);
    f->qc = NULL;
    src_position start = 0;
    if (!feed_start_get(s, f->base, sizeof f->base, &start) && stream) {
        log_report(LOG_ERROR, NULL, "start the migration again with --start-clean",
                   "source database: the binlog position of this migration is not in the export dir");
        return ENGINE_BAD_STATE;
    }
    char *why = NULL;
    mysql_conn_options qo = {.quiet = f->ever_connected, .why = &why, .read_timeout = MYSQL_SILENCE_MS / 1000};
    f->qc = mysql_conn_open(s->conf, &qo);
    if (!f->qc)
        return feed_connect_failed(s, f, why);
    free(why);
    why = NULL;
    if (!stream)
        return ENGINE_OK;
    if (!feed_tables_build(s, f) || !feed_layout_check(s, f))
        return ENGINE_SOURCE_FAILED;
    mysql_binlog_pos from;
    pos_decode(f->base, after > start ? after : start, &from);
    bool present = false;
    int rc = binlog_present(s, f, from.file, &present);
    if (rc != ENGINE_OK)
        return rc;
    if (!present) {
        log_report(LOG_ERROR, "the changes made since then are lost to this migration",
                   "keep binlogs longer (binlog_expire_logs_seconds / expire_logs_days) and start the "
                   "migration again with --start-clean",
                   "source database: binlog file %s, where the stream continues, was purged", from.file);
        return ENGINE_SOURCE_FAILED;
    }
    mysql_conn_options ro = {.quiet = f->ever_connected, .why = &why};
    f->rc = mysql_conn_open(s->conf, &ro);
    if (!f->rc)
        return feed_connect_failed(s, f, why);
    free(why);
    f->ever_connected = true;
    my_source *m = my_of(s);
    f->o = (mysql_binlog_opts){.catalog = &m->cat,
                               .start = from,
                               .server_id = 0,
                               .heartbeat_ms = MYSQL_HEARTBEAT_MS,
                               .idle = reader_idle,
                               .lost = f->lost,
                               .lost_size = sizeof f->lost};
    f->slot = SLOT_EMPTY;
    f->ended = f->stop = false;
    f->lost[0] = '\0';
    if (pthread_create(&f->th, NULL, reader_main, f) != 0) {
        log_error("source database: cannot start the binlog reader thread");
        return ENGINE_FAILED;
    }
    f->running = true;
    free(f->describe);
    f->describe = xasprintf("the binlog of %s from %s:%llu", f->qc->endpoint, from.file, from.offset);
    if (describe)
        *describe = f->describe;
    return ENGINE_OK;
}

static int64_t my_feed_silence_ms(source *s)
{
    (void)s;
    return MYSQL_SILENCE_MS;
}

static const feed_table *feed_table_of(const my_feed *f, const mysql_table *t)
{
    for (size_t i = 0; i < f->nft; i++)
        if (f->ft[i].t == t)
            return &f->ft[i];
    return NULL;
}

/* Values of image img (the catalog's columns) as the table's handed-on columns, in vals[t->ncols]. */
static bool convert_image(const feed_table *t, const mysql_binlog_value *img, src_value *vals,
                          strbuf *bufs)
{
    strbuf utf8 = STRBUF_INIT;
    for (size_t k = 0; k < t->ncols; k++) {
        const mysql_column *col = &t->t->columns[t->from[k]];
        const mysql_binlog_value *v = &img[t->from[k]];
        if (v->is_null) {
            vals[k] = (src_value){SRC_NULL, NULL, 0};
            continue;
        }
        strbuf_reset(&bufs[k]);
        strbuf_append(&bufs[k], "");
        refusal why = {.col = col};
        const char *data = v->data;
        size_t len = v->len;
        if (t->dec[k]) {
            strbuf_reset(&utf8);
            size_t bad = 0;
            if (!mysql_charset_decode(t->dec[k], data, len, &utf8, &bad)) {
                char at[16] = "";
                size_t n = len - bad < 4 ? len - bad : 4;
                for (size_t i = 0; i < n; i++)
                    snprintf(at + 2 * i, 3, "%02X", (unsigned char)data[bad + i]);
                log_report(LOG_ERROR,
                           "no character of the set starts there (a SELECT through utf8mb4 gets a '?' or bytes "
                           "that are not UTF-8 for it)",
                           "fix the value on the source, then start the migration again with --start-clean",
                           "source database: a change of table %s, column %s: the value is not valid %s text (byte %zu "
                           "of %zu, from there: %s)",
                           t->t->name, col->name, col->charset, bad + 1, len, at);
                strbuf_free(&utf8);
                return false;
            }
            data = utf8.data;
            len = utf8.len;
        }
        if (!append_value(&bufs[k], col, data, len, &why, FROM_BINLOG, false)) {
            strbuf_free(&utf8);
            log_report(LOG_ERROR, NULL, why.fix, "source database: a change of table %s, column %s: the value %s %s",
                       t->t->name, col->name, why.value, why.why);
            return false;
        }
        vals[k] = (src_value){SRC_TEXT, bufs[k].data, bufs[k].len};
    }
    strbuf_free(&utf8);
    return true;
}

/* Hand one transaction to h. */
static int hand_txn(my_feed *f, const mysql_binlog_txn *txn, const source_feed_handler *h)
{
    size_t n = 0;
    for (size_t i = 0; i < txn->nrows; i++)
        if (feed_table_of(f, txn->rows[i].table))
            n++;
    if (n == 0)
        return ENGINE_OK; /* only tables not captured */
    src_position end = pos_encode(&txn->commit);
    const char *dash = strrchr(txn->commit.gtid, '-');
    uint64_t txid = dash ? strtoull(dash + 1, NULL, 10) : 0;
    int rc = h->begin(h->arg, txid, end - 1);
    size_t maxc = 1;
    for (size_t i = 0; i < f->nft; i++)
        if (f->ft[i].ncols > maxc)
            maxc = f->ft[i].ncols;
    src_value *after = xcalloc(maxc, sizeof *after), *before = xcalloc(maxc, sizeof *before);
    strbuf *ab = xcalloc(maxc, sizeof *ab), *bb = xcalloc(maxc, sizeof *bb);
    for (size_t i = 0; rc == ENGINE_OK && i < txn->nrows; i++) {
        const mysql_binlog_row *row = &txn->rows[i];
        const feed_table *t = feed_table_of(f, row->table);
        if (!t)
            continue;
        if (row->op == MYSQL_BINLOG_TRUNCATE) {
            src_change tr = {.op = SRC_TRUNCATE, .schema = MYSQL_TARGET_SCHEMA, .table = t->name};
            rc = h->change(h->arg, &tr);
            continue;
        }
        src_change ch = {.schema = MYSQL_TARGET_SCHEMA, .table = t->name, .ncols = t->ncols,
                         .columns = (const char *const *)t->names, .key = t->key, .nkey = t->nkey,
                         .before_full = true};
        ch.op = row->op == MYSQL_BINLOG_INSERT ? SRC_INSERT : row->op == MYSQL_BINLOG_UPDATE ? SRC_UPDATE : SRC_DELETE;
        if (row->after) {
            if (!convert_image(t, row->after, after, ab)) {
                rc = ENGINE_SOURCE_FAILED;
                break;
            }
            ch.after = after;
        }
        if (row->before) {
            if (!convert_image(t, row->before, before, bb)) {
                rc = ENGINE_SOURCE_FAILED;
                break;
            }
            ch.before = before;
        }
        rc = h->change(h->arg, &ch);
    }
    for (size_t k = 0; k < maxc; k++)
        strbuf_free(&ab[k]), strbuf_free(&bb[k]);
    free(ab), free(bb), free(after), free(before);
    if (rc == ENGINE_OK)
        rc = h->commit(h->arg, end);
    return rc;
}

static int my_feed_poll(source *s, int timeout_ms, const source_feed_handler *h, source_feed_poll *out)
{
    my_feed *f = feed_of(s);
    memset(out, 0, sizeof *out);
    if (!f->running)
        return source_lost(s, "the binlog stream is not open");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->mu);
    while (f->slot == SLOT_EMPTY && !f->ended && timeout_ms > 0)
        if (pthread_cond_timedwait(&f->cv, &f->mu, &deadline) != 0)
            break;
    slot_kind kind = f->slot;
    const mysql_binlog_txn *txn = f->txn;
    mysql_binlog_pos at = f->at;
    bool ended = f->ended && kind == SLOT_EMPTY, ended_ok = f->ended_ok;
    pthread_mutex_unlock(&f->mu);
    int rc = ENGINE_OK;
    if (kind == SLOT_TXN) {
        /* the reader waits for the slot to empty: txn stays valid until then */
        rc = hand_txn(f, txn, h);
        out->kind = SOURCE_FEED_DATA;
    } else if (kind == SLOT_IDLE) {
        out->kind = SOURCE_FEED_KEEPALIVE;
        out->end = pos_encode(&at);
    } else if (ended) {
        pthread_join(f->th, NULL);
        f->running = false;
        if (f->lost[0])
            return source_lost(s, "%s", f->lost);
        if (ended_ok)
            return source_lost(s, "the binlog stream stopped");
        return ENGINE_SOURCE_FAILED; /* logged by the reader */
    }
    if (kind != SLOT_EMPTY) {
        pthread_mutex_lock(&f->mu);
        f->slot = SLOT_EMPTY;
        f->txn = NULL;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    return rc;
}

static int my_feed_confirm(source *s, src_position pos, bool reply)
{
    /* The binlog is kept by the server's own expiry, not by what a reader confirms. */
    (void)s, (void)pos, (void)reply;
    return ENGINE_OK;
}

/* A query on the query connection: SOURCE_LOST when it broke, else logged. */
static int query_failed(source *s, my_feed *f, const char *what)
{
    unsigned int e = f->qc ? f->qc->last_errno : 0;
    if (!f->qc || mysql_errno_lost(e))
        return source_lost(s, "%s: the connection broke (error %u)", what, e);
    log_error("source database: %s failed (error %u)", what, e);
    return ENGINE_SOURCE_FAILED;
}

static int my_feed_drain_point(source *s, src_position *need)
{
    my_feed *f = feed_of(s);
    mysql_rows r = MYSQL_ROWS_INIT;
    if (!f->qc || !mysql_conn_query_quiet(f->qc, "SHOW MASTER STATUS", 0, NULL, &r) || r.nrows != 1) {
        mysql_rows_free(&r);
        return query_failed(s, f, "SHOW MASTER STATUS");
    }
    mysql_binlog_pos p = {.offset = strtoull(mysql_rows_get(&r, 0, 1), NULL, 10)};
    snprintf(p.file, sizeof p.file, "%s", mysql_rows_get(&r, 0, 0));
    mysql_rows_free(&r);
    *need = pos_encode(&p);
    return ENGINE_OK;
}

static int my_feed_read_sequences(source *s, const strlist *schemas, sequence_value **out, size_t *n)
{
    my_source *m = my_of(s);
    my_feed *f = feed_of(s);
    *out = NULL;
    *n = 0;
    if (!f->qc || !m->have_cat)
        return source_lost(s, "no query connection for the AUTO_INCREMENT values");
    if (!read_auto_increments(s, m, f->qc))
        return ENGINE_SOURCE_FAILED;
    return my_read_sequences(s, NULL, schemas, out, n) ? ENGINE_OK : ENGINE_FAILED;
}

static void feed_free(my_feed *f)
{
    if (!f)
        return;
    reader_stop(f);
    mysql_conn_close(f->qc);
    feed_tables_free(f);
    for (size_t i = 0; i < f->ndecs; i++)
        mysql_charset_free(f->decs[i]);
    free(f->decs);
    strlist_free(&f->tables);
    free(f->name), free(f->detail), free(f->describe);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

static bool my_dump_schema(source *s, source_ddl *out)
{
    memset(out, 0, sizeof *out);
    my_source *m = my_of(s);
    if (my_connect(s, false, NULL) != ENGINE_OK)
        return false;
    m->c->retries = false; /* export schema does not start again: a lost connection is its error */
    mysql_catalog cat;
    if (!mysql_catalog_read(m->c, s->conf->name, &cat))
        return false;
    /* Unqualified names: import schema puts them in --target-db-schema through its search_path. */
    mysql_ddl_opts o = {.target_schema = NULL};
    mysql_ddl_result r;
    mysql_ddl_convert(&cat, &o, &r);
    static const struct {
        mysql_ddl_part from;
        source_ddl_part to;
    } map[] = {{MYSQL_DDL_TABLE, SOURCE_DDL_TABLE}, {MYSQL_DDL_FKEY, SOURCE_DDL_TABLE},
               {MYSQL_DDL_VIEW, SOURCE_DDL_VIEW}, {MYSQL_DDL_COMMENT, SOURCE_DDL_COMMENT},
               {MYSQL_DDL_INDEX, SOURCE_DDL_INDEX}};
    for (size_t i = 0; i < ARRAY_LEN(map); i++) {
        strbuf_append(&out->parts[map[i].to], strbuf_cstr(&r.parts[map[i].from]));
        out->counts[map[i].to] += r.counts[map[i].from];
    }
    out->issues = xcalloc(r.nissues + 1, sizeof *out->issues);
    for (size_t i = 0; i < r.nissues; i++) {
        out->issues[i].object_type = xstrdup(r.issues[i].object_type ? r.issues[i].object_type : "");
        out->issues[i].object_name = xstrdup(r.issues[i].object_name ? r.issues[i].object_name : "");
        out->issues[i].reason = xstrdup(r.issues[i].reason ? r.issues[i].reason : "");
        out->issues[i].suggestion = xstrdup(r.issues[i].suggestion ? r.issues[i].suggestion : "");
    }
    out->nissues = r.nissues;
    mysql_ddl_result_free(&r);
    mysql_catalog_free(&cat);
    return true;
}

static void my_close(source *s)
{
    my_source *m = s->impl;
    if (!m)
        return;
    feed_free(m->feed);
    my_snapshot_end(s, false);
    if (m->have_cat)
        mysql_catalog_free(&m->cat);
    sequence_values_free(m->seqs, m->nseqs);
    pthread_mutex_destroy(&m->mu);
    free(m);
    s->impl = NULL;
}

/* "<binlog file index>:<offset>" (source/source.h: position text for messages). */
static char *my_format_position(src_position pos, char *buf)
{
    snprintf(buf, 32, "%llu:%llu", (unsigned long long)(pos >> 32), (unsigned long long)(pos & 0xffffffffULL));
    return buf;
}

const source_ops source_mysql_ops = {
    .type = "mysql",
    .position_name = "binlog position",
    .feed_noun = "binlog reader",
    .format_position = my_format_position,
    .connect = my_connect,
    .resolve_schemas = my_resolve_schemas,
    .list_tables = my_list_tables,
    .control_lost = my_control_lost,
    .snapshot_begin = my_snapshot_begin,
    .snapshot_end = my_snapshot_end,
    .read_sequences = my_read_sequences,
    .rows_parts = my_rows_parts,
    .rows_open = my_rows_open,
    .rows_read = my_rows_read,
    .rows_close = my_rows_close,
    .snapshot_begin_readers = my_snapshot_begin_readers,
    .rows_read_range = my_rows_read_range,
    .rows_read_key_range = my_rows_read_key_range,
    .rows_count_key_range = my_rows_count_key_range,
    .snapshot_begin_point = my_snapshot_begin_point,
    .feed_init = my_feed_init,
    .feed_find = my_feed_find,
    .feed_prepare = my_feed_prepare,
    .feed_create = my_feed_create,
    .feed_release_snapshot = my_feed_release_snapshot,
    .feed_drop = my_feed_drop,
    .feed_connect = my_feed_connect,
    .feed_silence_ms = my_feed_silence_ms,
    .feed_poll = my_feed_poll,
    .feed_confirm = my_feed_confirm,
    .feed_drain_point = my_feed_drain_point,
    .feed_read_sequences = my_feed_read_sequences,
    .feed_disconnect = my_feed_disconnect,
    .dump_schema = my_dump_schema,
    .close = my_close,
};
