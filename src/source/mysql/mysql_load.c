/*
 * Snapshot batches into MySQL (fall-forward: the source-replica's snapshot). A data file holds
 * PostgreSQL COPY text lines (export data wrote them); a batch is a byte range of whole lines.
 * Its rows go as multi-row INSERTs with bound parameters (each value converted back as the
 * change apply does, myw_convert), then its bookkeeping row, in one transaction. The engine
 * (snapshot/batch_loader.c) keeps the files, retries and the plan.
 *
 * Memory: the load statement is the data file's column list as given (caller frees); a batch's
 * rows and parameters are freed before load_batch returns.
 */
#include "source/mysql/mysql_writer_int.h"

#include "core/log.h"
#include "core/key_parts.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A multi-row INSERT holds at most this many rows, parameters or bytes of values. */
#define LOAD_ROWS_MAX 500
#define LOAD_PARAMS_MAX 60000
#define LOAD_BYTES_MAX (4u << 20)

char *myw_load_statement(writer *w, const char *schema, const char *table, const char *columns_json)
{
    (void)w;
    (void)schema;
    (void)table;
    return xstrdup(columns_json ? columns_json : "");
}

/* COPY text field -> its value (NULL for \N) in out; false when out holds SQL NULL. */
static bool unescape(const char *f, size_t len, strbuf *out)
{
    strbuf_reset(out);
    if (len == 2 && f[0] == '\\' && f[1] == 'N')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = f[i];
        if (c != '\\' || i + 1 == len) {
            strbuf_append_char(out, c);
            continue;
        }
        c = f[++i];
        switch (c) {
        case 'b': strbuf_append_char(out, '\b'); break;
        case 'f': strbuf_append_char(out, '\f'); break;
        case 'n': strbuf_append_char(out, '\n'); break;
        case 'r': strbuf_append_char(out, '\r'); break;
        case 't': strbuf_append_char(out, '\t'); break;
        case 'v': strbuf_append_char(out, '\v'); break;
        case 'x': {
            int v = 0, k = 0;
            while (k < 2 && i + 1 < len) {
                int d = hex_digit_value(f[i + 1]);
                if (d < 0)
                    break;
                v = v * 16 + d;
                i++;
                k++;
            }
            if (k)
                strbuf_append_char(out, (char)v);
            else
                strbuf_append_char(out, 'x');
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0', k = 1;
                while (k < 3 && i + 1 < len && f[i + 1] >= '0' && f[i + 1] <= '7') {
                    v = v * 8 + (f[++i] - '0');
                    k++;
                }
                strbuf_append_char(out, (char)v);
            } else {
                strbuf_append_char(out, c);
            }
        }
    }
    return true;
}

typedef struct loader {
    my_wsession *s;
    const mtable *mt;
    const mcol **cols;
    size_t ncols;
    strbuf sql;
    MYSQL_BIND *b;
    strbuf *vals;   /* ncols * LOAD_ROWS_MAX */
    unsigned long *lens;
    my_bool *nulls;
    unsigned long long *ints;
    size_t rows, bytes;
    int64_t loaded;
    strbuf field;
} loader;

static void loader_free(loader *l)
{
    size_t n = l->ncols * LOAD_ROWS_MAX;
    for (size_t i = 0; l->vals && i < n; i++)
        strbuf_free(&l->vals[i]);
    free(l->vals);
    free(l->b);
    free(l->lens);
    free(l->nulls);
    free(l->ints);
    free(l->cols);
    strbuf_free(&l->sql);
    strbuf_free(&l->field);
}

/* The rows gathered so far as one INSERT (prepared per row count, kept per connection). */
static bool flush(loader *l, char **why)
{
    if (!l->rows)
        return true;
    my_wsession *s = l->s;
    strbuf sig = STRBUF_INIT;
    strbuf_appendf(&sig, "\x02load\x1f%zu\x1f", l->rows); /* names apart: key_part() */
    key_part(&sig, l->mt->name);
    for (size_t c = 0; c < l->ncols; c++)
        key_part(&sig, l->cols[c]->name);
    MYSQL_STMT *st = strmap_get(&s->stmts, sig.data, sig.len);
    if (!st) {
        strbuf_reset(&l->sql);
        strbuf_appendf(&l->sql, "INSERT INTO %s (", l->mt->qualified);
        for (size_t c = 0; c < l->ncols; c++) {
            char *q = mysql_quote_ident(l->cols[c]->name);
            strbuf_appendf(&l->sql, "%s%s", c ? ", " : "", q);
            free(q);
        }
        strbuf_append(&l->sql, ") VALUES ");
        for (size_t r = 0; r < l->rows; r++) {
            strbuf_append(&l->sql, r ? ", (" : "(");
            for (size_t c = 0; c < l->ncols; c++)
                strbuf_append(&l->sql, c ? ", ?" : "?");
            strbuf_append_char(&l->sql, ')');
        }
        st = mysql_stmt_init(s->c->my);
        if (!st || mysql_stmt_prepare(st, l->sql.data, l->sql.len) != 0) {
            myw_note_failure(s, st);
            if (st)
                mysql_stmt_close(st);
            *why = xstrdup(s->last_error);
            strbuf_free(&sig);
            return false;
        }
        strmap_put(&s->stmts, sig.data, sig.len, st);
    }
    strbuf_free(&sig);
    static char empty[1];
    size_t n = l->rows * l->ncols;
    for (size_t i = 0; i < n; i++) {
        MYSQL_BIND *b = &l->b[i];
        if (b->buffer_type == MYSQL_TYPE_LONGLONG) {
            b->buffer = &l->ints[i];
            b->buffer_length = sizeof l->ints[i];
        } else if (b->buffer_type != MYSQL_TYPE_NULL) {
            b->buffer = l->vals[i].data ? l->vals[i].data : empty;
            b->buffer_length = l->lens[i];
        }
        b->length = &l->lens[i];
        b->is_null = &l->nulls[i];
    }
    if (mysql_stmt_bind_param(st, l->b) != 0 || mysql_stmt_execute(st) != 0) {
        myw_note_failure(s, st);
        *why = xstrdup(s->last_error);
        return false;
    }
    l->loaded += (int64_t)mysql_stmt_affected_rows(st);
    l->rows = 0;
    l->bytes = 0;
    return true;
}

/* One COPY line into the next row's parameters (flushing first when full). */
static bool add_line(loader *l, const char *line, size_t len, char **why)
{
    if (l->rows == LOAD_ROWS_MAX || (l->rows + 1) * l->ncols > LOAD_PARAMS_MAX ||
        l->bytes >= LOAD_BYTES_MAX) {
        if (!flush(l, why))
            return false;
    }
    size_t base = l->rows * l->ncols, c = 0;
    const char *p = line, *end = line + len;
    for (;;) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *fend = tab ? tab : end;
        if (c == l->ncols) {
            *why = xasprintf("a line of the data file has more than the %zu columns of %s",
                             l->ncols, l->mt->qualified);
            return false;
        }
        size_t i = base + c;
        MYSQL_BIND *b = &l->b[i];
        memset(b, 0, sizeof *b);
        strbuf_reset(&l->vals[i]);
        if (!unescape(p, (size_t)(fend - p), &l->field)) {
            b->buffer_type = MYSQL_TYPE_NULL;
            l->nulls[i] = 1;
            l->lens[i] = 0;
        } else {
            bool is_int = false;
            uint64_t x = 0;
            const char *bad = NULL;
            if (!myw_convert(l->cols[c]->kind, l->field.data ? l->field.data : "", l->field.len,
                             &l->vals[i], &is_int, &x, &bad)) {
                *why = xasprintf("column %s of %s: %s", l->cols[c]->name, l->mt->qualified, bad);
                return false;
            }
            l->nulls[i] = 0;
            if (is_int) {
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                b->is_unsigned = 1;
                l->ints[i] = x;
                l->lens[i] = sizeof l->ints[i];
            } else {
                b->buffer_type =
                    l->cols[c]->kind == MCOL_BYTES ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
                l->lens[i] = (unsigned long)l->vals[i].len;
                l->bytes += l->vals[i].len;
            }
        }
        c++;
        if (!tab)
            break;
        p = tab + 1;
    }
    if (c != l->ncols) {
        *why = xasprintf("a line of the data file has %zu of the %zu columns of %s", c, l->ncols,
                         l->mt->qualified);
        return false;
    }
    l->rows++;
    return true;
}

static bool loader_init(loader *l, my_wsession *s, const writer_batch *b, char **why)
{
    memset(l, 0, sizeof *l);
    l->s = s;
    l->mt = myw_table(s, b->table, true);
    if (!l->mt) {
        *why = xasprintf("%s", s->last_errno ? s->last_error
                                             : "the table is not in the MySQL database");
        return false;
    }
    const mtable *mt = l->mt;
    l->cols = xcalloc(mt->ncols + 1, sizeof *l->cols);
    cJSON *arr = b->load_sql && *b->load_sql ? cJSON_Parse(b->load_sql) : NULL;
    if (arr && cJSON_GetArraySize(arr) > 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, arr)
        {
            const mcol *c = cJSON_IsString(it) ? myw_col(mt, it->valuestring) : NULL;
            if (!c || l->ncols == mt->ncols) {
                *why = xasprintf("column %s of the data file is not in MySQL table %s",
                                 cJSON_IsString(it) ? it->valuestring : "?", mt->qualified);
                cJSON_Delete(arr);
                return false;
            }
            l->cols[l->ncols++] = c;
        }
    } else {
        for (size_t i = 0; i < mt->ncols; i++)
            if (!mt->cols[i].generated)
                l->cols[l->ncols++] = &mt->cols[i];
    }
    cJSON_Delete(arr);
    if (!l->ncols) {
        *why = xasprintf("table %s has no column to load", mt->qualified);
        return false;
    }
    size_t n = l->ncols * LOAD_ROWS_MAX;
    l->b = xcalloc(n, sizeof *l->b);
    l->vals = xcalloc(n, sizeof *l->vals);
    l->lens = xcalloc(n, sizeof *l->lens);
    l->nulls = xcalloc(n, sizeof *l->nulls);
    l->ints = xcalloc(n, sizeof *l->ints);
    return true;
}

/* The batch's lines from fd into INSERTs; false with *why (*local: the file's fault). */
static bool load_lines(loader *l, const writer_batch *b, char *buf, char **why, bool *local)
{
    *local = false;
    strbuf line = STRBUF_INIT;
    int64_t off = b->start;
    bool ok = true;
    while (ok && off < b->end) {
        size_t want = (size_t)(b->end - off);
        if (want > WRITER_LOAD_BUFFER_BYTES)
            want = WRITER_LOAD_BUFFER_BYTES;
        ssize_t n = pread(b->fd, buf, want, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *why = xstrdup(n < 0 ? strerror(errno) : "data file is shorter than its batch plan");
            *local = true;
            ok = false;
            break;
        }
        off += n;
        const char *p = buf, *end = buf + n;
        while (ok && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) {
                strbuf_append_len(&line, p, (size_t)(end - p));
                break;
            }
            if (line.len) {
                strbuf_append_len(&line, p, (size_t)(nl - p));
                ok = add_line(l, line.data, line.len, why);
                strbuf_reset(&line);
            } else {
                ok = add_line(l, p, (size_t)(nl - p), why);
            }
            p = nl + 1;
        }
    }
    if (ok && line.len)
        ok = add_line(l, line.data, line.len, why);
    strbuf_free(&line);
    if (ok)
        ok = flush(l, why);
    if (!ok && !l->s->last_errno && !l->s->lost)
        *local = true;
    return ok;
}

static writer_load_result failure(my_wsession *s, bool local)
{
    bool retry = !local && (s->lost || mysql_errno_transient(s->last_errno));
    myw_rollback(s);
    return retry ? WRITER_LOAD_RETRY : WRITER_LOAD_FATAL;
}

/*
 * The batch's row in MYW_BATCHES (insert: claim it; else set its count), in
 * the open transaction. False with s->last_errno set (ER_DUP_ENTRY: the batch
 * is another session's).
 */
static bool batch_row(my_wsession *s, bool insert, const char *uuid, const writer_batch *b,
                      int64_t rows)
{
    char no[32], n[32];
    snprintf(no, sizeof no, "%lld", (long long)b->number);
    snprintf(n, sizeof n, "%lld", (long long)rows);
    const char *ins[6] = {uuid, b->file_name, no, b->schema, b->table, n};
    const char *upd[6] = {n, uuid, b->file_name, no, b->schema, b->table};
    mysql_rows r;
    bool ok = mysql_conn_query_quiet(s->c,
                                     insert ? "INSERT INTO " MYW_BATCHES " (migration_uuid, "
                                              "data_file_name, batch_number, schema_name, "
                                              "table_name, rows_imported) VALUES (?, ?, ?, ?, ?, ?)"
                                            : "UPDATE " MYW_BATCHES " SET rows_imported = ? WHERE "
                                              "migration_uuid = ? AND data_file_name = ? AND "
                                              "batch_number = ? AND schema_name = ? AND "
                                              "table_name = ?",
                                     6, insert ? ins : upd, &r);
    mysql_rows_free(&r);
    if (!ok) {
        s->last_errno = s->c->last_errno;
        snprintf(s->last_error, sizeof s->last_error, "MySQL error %u (SQLSTATE %s)",
                 s->c->last_errno, s->c->sqlstate);
        if (mysql_errno_lost(s->last_errno))
            s->lost = true;
    }
    return ok;
}

/*
 * The batch in one transaction: its row in MYW_BATCHES first, which claims
 * it (a session still committing the same batch, an importer killed
 * meanwhile, holds that key: the insert waits for it, then fails on the key
 * and the batch is loaded), then its rows, then COMMIT.
 */
writer_load_result myw_load_batch(writer_session *ws, const char *uuid, const writer_batch *b,
                                  int64_t copy_cap, char *buf, char **why)
{
    (void)copy_cap; /* YugabyteDB's message limit: MySQL gets INSERTs of bounded size anyway */
    my_wsession *s = my_ws(ws);
    *why = NULL;
    s->last_errno = 0;
    if (!s->c || s->lost) {
        *why = xstrdup("the connection is lost");
        return WRITER_LOAD_RETRY;
    }
    if (s->stmts.count >= 200)
        myw_forget_statements(s);
    loader l;
    if (!loader_init(&l, s, b, why)) {
        bool retry = s->lost || mysql_errno_transient(s->last_errno);
        loader_free(&l);
        return retry ? WRITER_LOAD_RETRY : WRITER_LOAD_FATAL;
    }
    if (!myw_exec(s, "START TRANSACTION", true)) {
        *why = xstrdup(s->last_error);
        loader_free(&l);
        return failure(s, false);
    }
    if (!batch_row(s, true, uuid, b, b->rows)) {
        loader_free(&l);
        if (s->last_errno == ER_DUP_ENTRY) {
            /* committed by an earlier run we did not know about: keep that one */
            myw_rollback(s);
            return WRITER_LOAD_DONE;
        }
        *why = xstrdup(s->last_error);
        return failure(s, false);
    }
    bool local = false;
    if (!load_lines(&l, b, buf, why, &local)) {
        loader_free(&l);
        return failure(s, local);
    }
    int64_t copied = l.loaded;
    loader_free(&l);
    if (copied != b->rows) {
        log_warn("%s: batch %lld of %s loaded %lld rows, expected %lld", b->display,
                 (long long)b->number, b->file_name, (long long)copied, (long long)b->rows);
        if (!batch_row(s, false, uuid, b, copied)) {
            *why = xstrdup(s->last_error);
            return failure(s, false);
        }
    }
    if (!myw_exec(s, "COMMIT", true)) {
        *why = xstrdup(s->last_error);
        return failure(s, false);
    }
    return WRITER_LOAD_DONE;
}

int myw_batch_committed(writer_session *ws, const char *uuid, const writer_batch *b)
{
    my_wsession *s = my_ws(ws);
    if (!s->c || s->lost)
        return -1;
    char no[32];
    snprintf(no, sizeof no, "%lld", (long long)b->number);
    const char *p[5] = {uuid, b->file_name, no, b->schema, b->table};
    mysql_rows r;
    if (!mysql_conn_query_quiet(s->c,
                                "SELECT 1 FROM " MYW_BATCHES " WHERE migration_uuid = ? AND "
                                "data_file_name = ? AND batch_number = ? AND schema_name = ? AND "
                                "table_name = ?",
                                5, p, &r)) {
        if (mysql_errno_lost(s->c->last_errno))
            s->lost = true;
        mysql_rows_free(&r);
        return -1;
    }
    int out = r.nrows > 0;
    mysql_rows_free(&r);
    return out;
}
