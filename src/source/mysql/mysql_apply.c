/*
 * Changes into MySQL: the PostgreSQL text forms of the target's values back to MySQL values
 * (myw_convert), and one batch applied in one transaction with the channel's progress and
 * counts (myw_apply_batch). Each statement shape (operation, table, columns) is prepared once per
 * connection; values are always bound parameters. Memory: a batch's converted values live in
 * the batch's own buffers, freed before it returns.
 */
#include "source/mysql/mysql_writer_int.h"

#include "core/log.h"
#include "core/key_parts.h"
#include "core/util.h"

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ---- */

/* bytea output: hex ('\x0aff') or the escape form (backslash doubled, others as \ooo). */
static bool bytes_of(const char *v, size_t len, strbuf *out, const char **why)
{
    if (len >= 2 && v[0] == '\\' && v[1] == 'x') {
        if ((len - 2) % 2) {
            *why = "a bytea value with an odd number of hex digits";
            return false;
        }
        strbuf_reserve(out, (len - 2) / 2);
        for (size_t i = 2; i < len; i += 2) {
            int hi = hex_digit_value(v[i]), lo = hex_digit_value(v[i + 1]);
            if (hi < 0 || lo < 0) {
                *why = "a bytea value with a character that is no hex digit";
                return false;
            }
            strbuf_append_char(out, (char)(hi << 4 | lo));
        }
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        if (v[i] != '\\') {
            strbuf_append_char(out, v[i]);
        } else if (i + 1 < len && v[i + 1] == '\\') {
            strbuf_append_char(out, '\\');
            i++;
        } else if (i + 3 < len && v[i + 1] >= '0' && v[i + 1] <= '3' && v[i + 2] >= '0' &&
                   v[i + 2] <= '7' && v[i + 3] >= '0' && v[i + 3] <= '7') {
            strbuf_append_char(out, (char)((v[i + 1] - '0') << 6 | (v[i + 2] - '0') << 3 |
                                           (v[i + 3] - '0')));
            i += 3;
        } else {
            *why = "a bytea value in neither the hex nor the escape form";
            return false;
        }
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

/*
 * timestamptz text ("2024-01-02 03:04:05.678+05:30", DateStyle ISO) -> the same instant in UTC,
 * which the session's time_zone '+00:00' stores unchanged. Without an offset: as is.
 */
static bool utc_of(const char *v, size_t len, strbuf *out, const char **why)
{
    char buf[64];
    if (len >= sizeof buf) {
        *why = "a timestamptz value longer than its form";
        return false;
    }
    memcpy(buf, v, len);
    buf[len] = '\0';
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(buf, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19) {
        *why = "a timestamptz value not in the ISO form (YYYY-MM-DD HH:MI:SS+HH)";
        return false;
    }
    const char *p = buf + n;
    char frac[16] = "";
    if (*p == '.') {
        size_t k = 0;
        for (p++; *p >= '0' && *p <= '9' && k < 9; p++)
            frac[k++] = *p;
        frac[k] = '\0';
    }
    if (!*p) {
        strbuf_append_len(out, v, len);
        return true;
    }
    if (*p != '+' && *p != '-') {
        *why = "a timestamptz value with something other than a zone offset after its time";
        return false;
    }
    int sign = *p == '-' ? -1 : 1, oh = 0, om = 0, os = 0;
    p++;
    int got = sscanf(p, "%2d:%2d:%2d", &oh, &om, &os);
    if (got < 1 || strstr(p, "BC")) {
        *why = "a timestamptz value outside MySQL's range";
        return false;
    }
    long long secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL + h * 3600 + mi * 60 +
                     sec - sign * (oh * 3600LL + om * 60 + os);
    long long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    long long rest = secs - days * 86400;
    long long yy;
    unsigned mm, dd;
    civil_from_days(days, &yy, &mm, &dd);
    strbuf_appendf(out, "%04lld-%02u-%02u %02lld:%02lld:%02lld", yy, mm, dd, rest / 3600,
                   rest / 60 % 60, rest % 60);
    if (frac[0])
        strbuf_appendf(out, ".%s", frac);
    return true;
}

bool myw_convert(mcol_kind k, const char *v, size_t len, strbuf *out, bool *is_int, uint64_t *ival,
                 const char **why)
{
    *is_int = false;
    switch (k) {
    case MCOL_BYTES:
        return bytes_of(v, len, out, why);
    case MCOL_BIT: {
        if (len > 64 || len == 0) {
            *why = "a bit string longer than 64 bits";
            return false;
        }
        uint64_t x = 0;
        for (size_t i = 0; i < len; i++) {
            if (v[i] != '0' && v[i] != '1') {
                *why = "a bit string with a digit other than 0 and 1";
                return false;
            }
            x = x << 1 | (uint64_t)(v[i] - '0');
        }
        *is_int = true;
        *ival = x;
        return true;
    }
    case MCOL_TIMESTAMP:
        return utc_of(v, len, out, why);
    case MCOL_YEAR: {
        uint64_t y = 0;
        for (size_t i = 0; i < len; i++) {
            if (v[i] < '0' || v[i] > '9' || i > 4) {
                *why = "a year that is no number of at most 4 digits";
                return false;
            }
            y = y * 10 + (uint64_t)(v[i] - '0');
        }
        if (!len) {
            *why = "an empty year";
            return false;
        }
        *is_int = true;
        *ival = y;
        return true;
    }
    case MCOL_INTEGER:
        /* a boolean of the target (t/f) in an integer column */
        if (len == 1 && (v[0] == 't' || v[0] == 'f')) {
            strbuf_append_char(out, v[0] == 't' ? '1' : '0');
            return true;
        }
        strbuf_append_len(out, v, len);
        return true;
    case MCOL_FLOAT: {
        /*
         * PostgreSQL prints the shortest text that reads back as the same single, which for
         * the largest ones (3.4028235e+38) is past FLT_MAX as a number: MySQL's strict mode
         * refuses it. The single's own value, printed whole, is the same FLOAT.
         */
        char tmp[64], *end;
        if (len >= sizeof tmp) {
            *why = "a real value longer than any real";
            return false;
        }
        memcpy(tmp, v, len);
        tmp[len] = '\0';
        float f = strtof(tmp, &end);
        if (end == tmp || *end || !isfinite(f)) {
            *why = "a real value MySQL's FLOAT cannot hold (NaN, Infinity)";
            return false;
        }
        strbuf_appendf(out, "%.17g", (double)f);
        return true;
    }
    case MCOL_TEXT:
        break;
    }
    strbuf_append_len(out, v, len);
    return true;
}

/* ---- statements ---- */

/* The statement cache is emptied (between batches) past this many: each is server memory. */
#define STMT_CACHE_MAX 500

static MYSQL_STMT *statement(my_wsession *s, const strbuf *sig, const char *sql)
{
    MYSQL_STMT *st = strmap_get(&s->stmts, sig->data, sig->len);
    if (st)
        return st;
    st = mysql_stmt_init(s->c->my);
    if (!st) {
        myw_note_failure(s, NULL);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        myw_note_failure(s, st);
        mysql_stmt_close(st);
        return NULL;
    }
    strmap_put(&s->stmts, sig->data, sig->len, st);
    return st;
}

/* A statement's parameters: converted values, bound. */
typedef struct params {
    size_t n, cap;
    MYSQL_BIND *b;
    strbuf *vals;
    unsigned long *lens;
    my_bool *nulls;
    unsigned long long *ints;
} params;

static void params_reset(params *p) { p->n = 0; }

static void params_free(params *p)
{
    for (size_t i = 0; i < p->cap; i++)
        strbuf_free(&p->vals[i]);
    free(p->b);
    free(p->vals);
    free(p->lens);
    free(p->nulls);
    free(p->ints);
    memset(p, 0, sizeof *p);
}

static size_t params_next(params *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        p->b = xrealloc(p->b, cap * sizeof *p->b);
        p->vals = xrealloc(p->vals, cap * sizeof *p->vals);
        p->lens = xrealloc(p->lens, cap * sizeof *p->lens);
        p->nulls = xrealloc(p->nulls, cap * sizeof *p->nulls);
        p->ints = xrealloc(p->ints, cap * sizeof *p->ints);
        for (size_t i = p->cap; i < cap; i++)
            p->vals[i] = (strbuf)STRBUF_INIT;
        p->cap = cap;
    }
    size_t i = p->n++;
    strbuf_reset(&p->vals[i]);
    return i;
}

/* Add v (NULL: SQL NULL) for a column of kind k; false with *why. */
static bool params_add(params *p, mcol_kind k, const char *v, size_t len, const char **why)
{
    size_t i = params_next(p);
    p->nulls[i] = v == NULL;
    if (v) {
        bool is_int = false;
        uint64_t x = 0;
        if (!myw_convert(k, v, len, &p->vals[i], &is_int, &x, why))
            return false;
        p->ints[i] = x;
        p->nulls[i] = 0;
        p->b[i].buffer_type = is_int ? MYSQL_TYPE_LONGLONG
                              : k == MCOL_BYTES ? MYSQL_TYPE_BLOB
                                                : MYSQL_TYPE_STRING;
        p->b[i].is_unsigned = is_int;
        p->lens[i] = is_int ? sizeof p->ints[i] : (unsigned long)p->vals[i].len;
    } else {
        p->b[i].buffer_type = MYSQL_TYPE_NULL;
        p->b[i].is_unsigned = 0;
        p->lens[i] = 0;
    }
    return true;
}

/* Point the binds at their buffers (they move while params grow). */
static void params_bind(params *p)
{
    static char empty[1];
    for (size_t i = 0; i < p->n; i++) {
        MYSQL_BIND *b = &p->b[i];
        enum enum_field_types t = b->buffer_type;
        my_bool uns = b->is_unsigned;
        memset(b, 0, sizeof *b);
        b->buffer_type = t;
        b->is_unsigned = uns;
        b->is_null = &p->nulls[i];
        b->length = &p->lens[i];
        if (t == MYSQL_TYPE_LONGLONG) {
            b->buffer = &p->ints[i];
            b->buffer_length = sizeof p->ints[i];
        } else if (t != MYSQL_TYPE_NULL) {
            b->buffer = p->vals[i].data ? p->vals[i].data : empty;
            b->buffer_length = p->lens[i];
        }
    }
}

/* Execute st with p's values; *affected: rows changed (matched, for an UPDATE). */
static bool run(my_wsession *s, MYSQL_STMT *st, params *p, bool update, uint64_t *affected)
{
    params_bind(p);
    if ((p->n && mysql_stmt_bind_param(st, p->b) != 0) || mysql_stmt_execute(st) != 0) {
        myw_note_failure(s, st);
        return false;
    }
    uint64_t n = mysql_stmt_affected_rows(st);
    if (update) {
        /* "Rows matched: 1  Changed: 0": an update to the values the row has counts as found */
        const char *info = mysql_info(s->c->my);
        unsigned long long m;
        if (info && sscanf(info, "Rows matched: %llu", &m) == 1)
            n = m;
    }
    if (affected)
        *affected = n;
    return true;
}

/* Text parameters (bookkeeping). */
static void params_text(params *p, const char *const *v, size_t n)
{
    const char *why;
    for (size_t i = 0; i < n; i++)
        params_add(p, MCOL_TEXT, v[i], v[i] ? strlen(v[i]) : 0, &why);
}

static void append_ident(strbuf *sb, const char *name)
{
    char *q = mysql_quote_ident(name);
    strbuf_append(sb, q);
    free(q);
}

/* ---- one change ---- */

/*
 * WHERE for the row an update or delete is about: its primary key, or without one the first row
 * equal on every column the exporter identified it by (<=>: NULL equals NULL).
 */
static bool add_where(const writer_item *it, const mtable *mt, strbuf *sig, strbuf *sql, params *p,
                      strbuf *err)
{
    const writer_change *ev = &it->ev;
    const table_meta *tm = it->tm;
    const char *why = NULL;
    strbuf_append(sql, " WHERE ");
    if (tm->pk.count) {
        for (size_t i = 0; i < tm->pk.count; i++) {
            bool found;
            const char *v = writer_old_value(ev, tm->pk.items[i], &found);
            const mcol *c = myw_col(mt, tm->pk.items[i]);
            if (!found || !v || !c) {
                strbuf_appendf(err, "the event has no value for key column \"%s\"",
                               tm->pk.items[i]);
                return false;
            }
            if (i)
                strbuf_append(sql, " AND ");
            append_ident(sql, c->name);
            strbuf_append(sql, " = ?");
            if (!params_add(p, c->kind, v, strlen(v), &why)) {
                strbuf_appendf(err, "column \"%s\": %s", tm->pk.items[i], why);
                return false;
            }
        }
        return true;
    }
    const writer_cols *id = ev->key.count ? &ev->key : &ev->before;
    size_t terms = 0;
    for (size_t i = 0; i < id->count; i++) {
        const mcol *c = myw_col(mt, id->names[i]);
        if (!c) {
            strbuf_appendf(err, "column \"%s\" is not in MySQL table %s", id->names[i],
                           mt->qualified);
            return false;
        }
        if (c->generated)
            continue;
        key_part(sig, id->names[i]);
        if (terms++)
            strbuf_append(sql, " AND ");
        append_ident(sql, c->name);
        strbuf_append(sql, " <=> ?");
        const char *v = id->values[i];
        if (!params_add(p, c->kind, v, v ? strlen(v) : 0, &why)) {
            strbuf_appendf(err, "column \"%s\": %s", id->names[i], why);
            return false;
        }
    }
    if (!terms) {
        strbuf_append(err, "the event identifies no row");
        return false;
    }
    strbuf_append(sql, " LIMIT 1");
    return true;
}

/* Does the change name MySQL column c (by the target's name, as fields do)? */
static bool fields_have(const writer_cols *f, const mcol *c)
{
    for (size_t i = 0; i < f->count; i++)
        if (str_eq(f->names[i], c->target))
            return true;
    return false;
}

/* Apply one change; false with err set (and the session's failure when it was the server's). */
static bool apply_one(my_wsession *s, const writer_item *it, params *p, strbuf *err)
{
    const writer_change *ev = &it->ev;
    const mtable *mt = myw_table(s, it->tm->table_name, true);
    if (!mt) {
        if (s->lost || s->last_errno)
            strbuf_append(err, s->last_error);
        else
            strbuf_appendf(err, "table %s is not in the MySQL database", it->tm->table_name);
        return false;
    }
    strbuf sig = STRBUF_INIT, sql = STRBUF_INIT;
    strbuf_append_int(&sig, (int)ev->op);
    strbuf_append_char(&sig, '\x1f');
    key_part(&sig, it->tm->table_name); /* a MySQL name may hold any character but NUL */
    params_reset(p);
    const char *why = NULL;
    bool ok = true;
    size_t set = 0;
    if (ev->op == WRITER_OP_TRUNCATE) {
        strbuf_appendf(&sql, "DELETE FROM %s", mt->qualified);
    } else if (ev->op == WRITER_OP_INSERT || ev->op == WRITER_OP_UPDATE) {
        strbuf cols = STRBUF_INIT;
        for (size_t i = 0; ok && i < ev->fields.count; i++) {
            const mcol *c = myw_col(mt, ev->fields.names[i]);
            if (!c) {
                strbuf_appendf(err, "column \"%s\" is not in MySQL table %s", ev->fields.names[i],
                               mt->qualified);
                ok = false;
                break;
            }
            if (c->generated)
                continue;
            key_part(&sig, ev->fields.names[i]);
            if (set++)
                strbuf_append(&cols, ", ");
            append_ident(&cols, c->name);
            if (ev->op == WRITER_OP_UPDATE)
                strbuf_append(&cols, " = ?");
            const char *v = ev->fields.values[i];
            if (!params_add(p, c->kind, v, v ? strlen(v) : 0, &why)) {
                strbuf_appendf(err, "column \"%s\": %s", ev->fields.names[i], why);
                ok = false;
            }
        }
        /*
         * The target has no ON UPDATE trigger: its row keeps the value the change carries, so
         * MySQL's must too. A column set to itself is not auto-updated; a changed one is named above.
         */
        for (size_t i = 0; ok && set && ev->op == WRITER_OP_UPDATE && i < mt->ncols; i++) {
            const mcol *c = &mt->cols[i];
            if (!c->on_update || c->generated || fields_have(&ev->fields, c))
                continue;
            strbuf_append(&cols, ", ");
            append_ident(&cols, c->name);
            strbuf_append(&cols, " = ");
            append_ident(&cols, c->name);
        }
        if (ok && ev->op == WRITER_OP_INSERT) {
            strbuf_appendf(&sql, "INSERT INTO %s (%s) VALUES (", mt->qualified, strbuf_cstr(&cols));
            for (size_t i = 0; i < set; i++)
                strbuf_append(&sql, i ? ", ?" : "?");
            strbuf_append_char(&sql, ')');
        } else if (ok) {
            strbuf_appendf(&sql, "UPDATE %s SET %s", mt->qualified, strbuf_cstr(&cols));
        }
        strbuf_free(&cols);
    } else {
        strbuf_appendf(&sql, "DELETE FROM %s", mt->qualified);
    }
    if (ok && ev->op == WRITER_OP_UPDATE && set == 0) {
        /* nothing MySQL stores changed (generated columns only) */
        strbuf_free(&sig);
        strbuf_free(&sql);
        return true;
    }
    strbuf_append_char(&sig, '\x1e');
    if (ok && (ev->op == WRITER_OP_UPDATE || ev->op == WRITER_OP_DELETE))
        ok = add_where(it, mt, &sig, &sql, p, err);
    MYSQL_STMT *st = ok ? statement(s, &sig, strbuf_cstr(&sql)) : NULL;
    uint64_t affected = 0;
    if (ok && (!st || !run(s, st, p, ev->op == WRITER_OP_UPDATE, &affected))) {
        strbuf_append(err, s->last_error);
        ok = false;
    }
    if (ok && (ev->op == WRITER_OP_UPDATE || ev->op == WRITER_OP_DELETE) && affected == 0) {
        s->zero_row_changes++;
        if (s->zero_row_changes <= 10)
            log_warn("apply: %s of vsn %lld on %s found no row",
                     ev->op == WRITER_OP_UPDATE ? "update" : "delete", (long long)ev->vsn,
                     mt->qualified);
    }
    if (ok && ev->op == WRITER_OP_TRUNCATE)
        log_info("apply: vsn %lld emptied %s (TRUNCATE on the %s)", (long long)ev->vsn,
                 mt->qualified, ev->exporter_role);
    strbuf_free(&sig);
    strbuf_free(&sql);
    return ok;
}

/* ---- the batch ---- */

typedef struct tcount {
    const table_meta *tm;
    int64_t n[3];
} tcount;

static const char SQL_PROGRESS[] =
    "UPDATE " MYW_CHANNELS " SET last_applied_vsn = ?, num_inserts = num_inserts + ?, "
    "num_updates = num_updates + ?, num_deletes = num_deletes + ? "
    "WHERE migration_uuid = ? AND channel_no = ? AND last_applied_vsn = ? AND last_applied_vsn < ?";
static const char SQL_COUNTS[] =
    "INSERT INTO " MYW_COUNTS " (migration_uuid, channel_no, table_name, total_events, "
    "num_inserts, num_updates, num_deletes) VALUES (?, ?, ?, ? + ? + ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE total_events = total_events + VALUES(total_events), "
    "num_inserts = num_inserts + VALUES(num_inserts), "
    "num_updates = num_updates + VALUES(num_updates), "
    "num_deletes = num_deletes + VALUES(num_deletes)";

/*
 * The channel's progress row from after_vsn to vsn, its counts up by
 * counts[]: true when the statement ran, the rows it changed in *affected (0:
 * the progress is no longer after_vsn, another session moved it). InnoDB's
 * UPDATE reads the latest committed row under its lock, whatever the
 * isolation level: of two sessions moving it from the same vsn, one does.
 */
static bool progress_update(my_wsession *s, params *p, int64_t after_vsn, int64_t vsn,
                            const int64_t counts[3], uint64_t *affected)
{
    char ch[16], v[24], after[24], c0[24], c1[24], c2[24];
    snprintf(ch, sizeof ch, "%d", s->channel);
    snprintf(v, sizeof v, "%lld", (long long)vsn);
    snprintf(after, sizeof after, "%lld", (long long)after_vsn);
    snprintf(c0, sizeof c0, "%lld", (long long)counts[0]);
    snprintf(c1, sizeof c1, "%lld", (long long)counts[1]);
    snprintf(c2, sizeof c2, "%lld", (long long)counts[2]);
    const char *pp[8] = {v, c0, c1, c2, s->uuid, ch, after, v};
    strbuf sig = STRBUF_INIT;
    strbuf_append(&sig, "\x01progress");
    params_reset(p);
    params_text(p, pp, 8);
    MYSQL_STMT *st = statement(s, &sig, SQL_PROGRESS);
    strbuf_free(&sig);
    *affected = 0;
    return st && run(s, st, p, false, affected);
}

static bool bookkeeping(my_wsession *s, int64_t after_vsn, writer_item **items, size_t n, params *p,
                        strbuf *err)
{
    tcount *tc = xcalloc(n ? n : 1, sizeof *tc);
    size_t ntc = 0;
    int64_t totals[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        int op = (int)items[i]->ev.op;
        if (op > WRITER_OP_DELETE)
            continue;
        totals[op]++;
        size_t t = 0;
        while (t < ntc && tc[t].tm != items[i]->tm)
            t++;
        if (t == ntc)
            tc[ntc++].tm = items[i]->tm;
        tc[t].n[op]++;
    }
    uint64_t affected = 0;
    bool ok = progress_update(s, p, after_vsn, items[n - 1]->ev.vsn, totals, &affected);
    if (!ok) {
        strbuf_append(err, s->last_error);
    } else if (affected != 1) {
        /* moved by another session since after_vsn: the batch must not commit */
        strbuf_appendf(err,
                       "stale batch: the progress of this channel is no longer at vsn %lld "
                       "(committed by another session: an importer killed while it committed, "
                       "or a second importer on this database?)",
                       (long long)after_vsn);
        s->last_errno = 0;
        ok = false;
    }
    char ch[16], c0[24], c1[24], c2[24];
    snprintf(ch, sizeof ch, "%d", s->channel);
    strbuf sig = STRBUF_INIT;
    strbuf_append(&sig, "\x01" "counts");
    for (size_t t = 0; ok && t < ntc; t++) {
        snprintf(c0, sizeof c0, "%lld", (long long)tc[t].n[0]);
        snprintf(c1, sizeof c1, "%lld", (long long)tc[t].n[1]);
        snprintf(c2, sizeof c2, "%lld", (long long)tc[t].n[2]);
        const char *cp[9] = {s->uuid, ch, tc[t].tm->count_name, c0, c1, c2, c0, c1, c2};
        params_reset(p);
        params_text(p, cp, 9);
        MYSQL_STMT *st = statement(s, &sig, SQL_COUNTS);
        ok = st && run(s, st, p, false, NULL);
        if (!ok)
            strbuf_append(err, s->last_error);
    }
    strbuf_free(&sig);
    free(tc);
    return ok;
}

bool myw_apply_progress(my_wsession *s, int64_t after_vsn, int64_t vsn)
{
    if (!s->c || s->lost)
        return false;
    params p = {0};
    const int64_t none[3] = {0, 0, 0};
    uint64_t affected = 0;
    /* autocommit: the statement is its own transaction; 0 rows: stale (another importer) */
    bool ok = progress_update(s, &p, after_vsn, vsn, none, &affected) && affected == 1;
    params_free(&p);
    return ok;
}

bool myw_apply_batch(my_wsession *s, int64_t after_vsn, writer_item **items, size_t n,
                     writer_item **failed, strbuf *err)
{
    *failed = NULL;
    s->last_errno = 0;
    if (!n)
        return true;
    if (!s->c || s->lost) {
        s->lost = true;
        s->last_errno = CR_SERVER_LOST;
        strbuf_append(err, "the connection is lost");
        return false;
    }
    if (s->stmts.count >= STMT_CACHE_MAX)
        myw_forget_statements(s);
    params p = {0};
    bool ok = myw_exec(s, "START TRANSACTION", true);
    if (!ok)
        strbuf_append(err, s->last_error);
    for (size_t i = 0; ok && i < n; i++) {
        if (!apply_one(s, items[i], &p, err)) {
            *failed = items[i];
            ok = false;
        }
    }
    if (ok)
        ok = bookkeeping(s, after_vsn, items, n, &p, err);
    if (ok && !myw_exec(s, "COMMIT", true)) {
        strbuf_append(err, s->last_error);
        ok = false;
    }
    if (!ok)
        myw_rollback(s);
    params_free(&p);
    return ok;
}
