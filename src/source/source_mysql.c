/*
 * The MySQL / MariaDB source (source/source.h), snapshot-only: the control
 * connection, the database's tables (the database is the schema: its tables
 * go to the target's "public" schema, named as export schema names them,
 * source/mysql/mysql_ddl.h), one consistent snapshot for every export worker,
 * AUTO_INCREMENT values as the identities' sequence values, and the rows of a
 * table as PostgreSQL text COPY lines in the types export schema gives the
 * target columns. No change feed yet: export data refuses
 * snapshot-and-changes for this source (feed_* entries stay NULL).
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
#include "source/mysql/mysql_catalog.h"
#include "source/mysql/mysql_conn.h"
#include "source/mysql/mysql_ddl.h"

#include <cjson/cJSON.h>
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most export workers a MySQL snapshot serves (connections opened under the lock). */
#define MYSQL_POOL_MAX 16
/* The target schema of the tables (import data loads into the schema export data names). */
#define MYSQL_TARGET_SCHEMA "public"

typedef struct my_source {
    mysql_conn *c; /* the control connection */
    mysql_catalog cat;
    bool have_cat;
    size_t ntables; /* of the last list_tables */
    /* snapshot_begin .. snapshot_end */
    pthread_mutex_t mu;
    mysql_conn **pool;
    size_t npool, next;
    sequence_value *seqs;
    size_t nseqs;
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
    mysql_conn_options o = {.quiet = quiet, .why = why};
    m->c = mysql_conn_open(s->conf, &o);
    if (!m->c)
        return ENGINE_SOURCE_FAILED;
    /* Like db_connect_recorded: the configuration (never the password) and the server's version. */
    return db_conf_record(s->eng->cat, s->conf, m->c->server_version, false) ? ENGINE_OK : ENGINE_BAD_STATE;
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

/* AUTO_INCREMENT values (read under the lock) as the target identities' sequence values. */
static bool read_auto_increments(source *s, my_source *m)
{
    sequence_values_free(m->seqs, m->nseqs);
    m->seqs = NULL;
    m->nseqs = 0;
    mysql_rows r = MYSQL_ROWS_INIT;
    const char *p[1] = {s->conf->name};
    bool ok = mysql_conn_query(m->c,
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

static char *my_snapshot_begin(source *s)
{
    my_source *m = my_of(s);
    mysql_conn *c = my_control(s);
    if (!c)
        return NULL;
    pool_close(m);
    mysql_rows none = MYSQL_ROWS_INIT;
    bool locked = mysql_conn_query_quiet(c, "FLUSH TABLES WITH READ LOCK", 0, NULL, &none);
    mysql_rows_free(&none);
    if (!locked) {
        if (c->last_errno == ER_SPECIFIC_ACCESS_DENIED_ERROR || c->last_errno == ER_ACCESS_DENIED_ERROR ||
            c->last_errno == ER_DBACCESS_DENIED_ERROR)
            log_error("source database: FLUSH TABLES WITH READ LOCK was refused to user %s (error %u): "
                      "a consistent snapshot of every table needs the RELOAD privilege; as an "
                      "administrator run: GRANT RELOAD ON *.* TO '%s'@'<client host>';",
                      c->user, c->last_errno, c->user);
        else
            log_error("source database: FLUSH TABLES WITH READ LOCK failed: %s (error %u)",
                      mysql_error(c->my), c->last_errno);
        return NULL;
    }
    /* Under the lock: nothing commits until UNLOCK TABLES. */
    char *name = NULL;
    mysql_rows st = MYSQL_ROWS_INIT;
    if (mysql_conn_query_quiet(c, "SHOW MASTER STATUS", 0, NULL, &st) && st.nrows == 1 && st.ncols >= 2)
        name = xasprintf("binlog %s:%s", mysql_rows_get(&st, 0, 0), mysql_rows_get(&st, 0, 1));
    else
        name = xstrdup("binlog off or not readable");
    mysql_rows_free(&st);
    bool ok = read_auto_increments(s, m);
    size_t want = m->ntables < 1 ? 1 : m->ntables > MYSQL_POOL_MAX ? MYSQL_POOL_MAX : m->ntables;
    m->pool = xcalloc(want, sizeof *m->pool);
    for (size_t i = 0; ok && i < want; i++) {
        mysql_conn_options o = {.read_timeout = 600};
        mysql_conn *w = mysql_conn_open(s->conf, &o);
        ok = w && mysql_conn_exec(w, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ") &&
             mysql_conn_exec(w, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
        if (w && !ok)
            mysql_conn_close(w);
        else if (ok)
            m->pool[m->npool++] = w;
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

static void my_snapshot_end(source *s, bool commit)
{
    (void)commit; /* read-only transactions: nothing to keep */
    my_source *m = my_of(s);
    pool_close(m);
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
        log_error("source database: the MySQL snapshot has %zu connection(s) and all are in use; "
                  "lower --parallel-jobs to %zu",
                  m->npool, m->npool);
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

/* Append value v (len bytes, not NULL) of col in the target's text form; false: refused (*why). */
static bool append_value(strbuf *b, const mysql_column *col, const char *v, size_t len, refusal *why)
{
    const char *t = col->data_type;
    if (str_eq(t, "bit")) {
        long long n = col->length > 0 ? col->length : 1;
        unsigned long long x = 0;
        for (size_t i = 0; i < len; i++)
            x = (x << 8) | (unsigned char)v[i];
        for (long long i = n - 1; i >= 0; i--)
            strbuf_append_char(b, (x >> i) & 1 ? '1' : '0');
        return true;
    }
    if (is_binary_type(t)) {
        static const char hex[] = "0123456789abcdef";
        strbuf_append(b, "\\\\x");
        for (size_t i = 0; i < len; i++) {
            strbuf_append_char(b, hex[(unsigned char)v[i] >> 4]);
            strbuf_append_char(b, hex[(unsigned char)v[i] & 15]);
        }
        return true;
    }
    if (str_eq(t, "date") || str_eq(t, "datetime") || str_eq(t, "timestamp")) {
        if (zero_date(v, len)) {
            why->why = "is a zero date, which PostgreSQL has no value for";
            why->fix = "update those rows to NULL or a real date on the source (or export without "
                       "the table), then run export data again";
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
            why->fix = "change the target column to interval (edit the exported schema) or update "
                       "those rows on the source, then run export data again";
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
    copy_escape(b, v, len);
    return true;
}

/* A lost connection (server gone, killed, timed out) rather than a refusal. */
static bool lost_errno(unsigned int e)
{
    return e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR || e == CR_CONNECTION_ERROR ||
           e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN || e == CR_CONN_HOST_ERROR;
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
    const mysql_column **cols = xcalloc(mt->ncolumns + 1, sizeof *cols);
    size_t ncols = 0;
    for (size_t k = 0; k < mt->ncolumns; k++)
        if (copied(&mt->columns[k]))
            cols[ncols++] = &mt->columns[k];
    char *from = mysql_quote_qualified(r->database, mt->name);
    char *sql = xasprintf("SELECT %s FROM %s", t->column_list, from);
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
            if (!append_value(&line, cols[i], row[i], lens[i], &why)) {
                log_error("source database: table %s, column %s: the value %s %s; %s",
                          mt->name, cols[i]->name, why.value, why.why, why.fix);
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
    bool lost = lost_errno(e);
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

static bool my_dump_schema(source *s, source_ddl *out)
{
    memset(out, 0, sizeof *out);
    my_source *m = my_of(s);
    if (my_connect(s, false, NULL) != ENGINE_OK)
        return false;
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
    my_snapshot_end(s, false);
    if (m->have_cat)
        mysql_catalog_free(&m->cat);
    sequence_values_free(m->seqs, m->nseqs);
    pthread_mutex_destroy(&m->mu);
    free(m);
    s->impl = NULL;
}

static char *my_format_position(src_position pos, char *buf)
{
    snprintf(buf, 32, "%llu", (unsigned long long)pos);
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
    .snapshot_begin = my_snapshot_begin,
    .snapshot_end = my_snapshot_end,
    .read_sequences = my_read_sequences,
    .rows_parts = my_rows_parts,
    .rows_open = my_rows_open,
    .rows_read = my_rows_read,
    .rows_close = my_rows_close,
    /* feed_*: none yet (export data refuses snapshot-and-changes from MySQL) */
    .dump_schema = my_dump_schema,
    .close = my_close,
};
