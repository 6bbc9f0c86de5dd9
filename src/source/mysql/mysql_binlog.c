#include "source/mysql/mysql_binlog.h"

#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <errmsg.h>
#include <errno.h>
#include <mysql.h>
#include <mysqld_error.h>
/* after mysql.h, which it needs */
#include <mariadb_rpl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int mysql_binlog_pos_cmp(const mysql_binlog_pos *a, const mysql_binlog_pos *b)
{
    /* "binlog.000010" > "binlog.000009": same base name, fixed-width sequence */
    size_t la = strlen(a->file), lb = strlen(b->file);
    int c = la != lb ? (la < lb ? -1 : 1) : strcmp(a->file, b->file);
    if (c)
        return c;
    return a->offset < b->offset ? -1 : a->offset > b->offset ? 1 : 0;
}

bool mysql_binlog_current(mysql_conn *c, mysql_binlog_pos *out)
{
    memset(out, 0, sizeof *out);
    mysql_rows r;
    if (!mysql_conn_query(c, "SHOW MASTER STATUS", 0, NULL, &r)) {
        mysql_rows_free(&r);
        return false;
    }
    if (r.nrows == 0) {
        mysql_rows_free(&r);
        log_report(LOG_ERROR, "SHOW MASTER STATUS returned no row", "SET GLOBAL cannot turn it on: restart the server with it",
                   "%s database (MySQL at %s): the binary log is off (log_bin=OFF)", db_role_name(c->role), c->endpoint);
        return false;
    }
    snprintf(out->file, sizeof out->file, "%s", mysql_rows_get(&r, 0, 0));
    out->offset = strtoull(mysql_rows_get(&r, 0, 1), NULL, 10);
    mysql_rows_free(&r);
    if (c->is_mariadb) {
        char *g = mysql_conn_query_value(c, "SELECT @@gtid_binlog_pos", 0, NULL, NULL);
        snprintf(out->gtid, sizeof out->gtid, "%s", g ? g : "");
        free(g);
    }
    return true;
}

/* ---- decoding one row image ---- */

static unsigned meta_size(unsigned char type)
{
    switch (type) {
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_GEOMETRY:
    case MYSQL_TYPE_JSON:
    case MYSQL_TYPE_TIMESTAMP2:
    case MYSQL_TYPE_DATETIME2:
    case MYSQL_TYPE_TIME2:
        return 1;
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_BIT:
    case MYSQL_TYPE_NEWDECIMAL:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_ENUM:
    case MYSQL_TYPE_SET:
        return 2;
    default:
        return 0;
    }
}

typedef struct colmeta {
    unsigned char type;
    unsigned m0, m1; /* the metadata bytes (0 when none) */
} colmeta;

typedef struct cursor {
    const unsigned char *p, *end;
} cursor;

static bool need(cursor *c, size_t n)
{
    return (size_t)(c->end - c->p) >= n;
}

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void put_frac(strbuf *sb, unsigned long micro, int fsp)
{
    if (fsp <= 0)
        return;
    char digits[24];
    snprintf(digits, sizeof digits, "%06lu", micro % 1000000);
    strbuf_appendf(sb, ".%.*s", fsp > 6 ? 6 : fsp, digits);
}

/* Bytes after a little-endian length of lb bytes (strings, blobs). */
static bool read_prefixed(cursor *c, int lb, strbuf *out)
{
    if (!need(c, (size_t)lb))
        return false;
    size_t len = (size_t)le(c->p, lb);
    c->p += lb;
    if (!need(c, len))
        return false;
    strbuf_append_len(out, (const char *)c->p, len);
    c->p += len;
    return true;
}

/* The fractional part of TIME2/DATETIME2/TIMESTAMP2 in microseconds ((fsp+1)/2 big-endian bytes). */
static bool read_frac(cursor *c, int fsp, long *micro)
{
    int n = (fsp + 1) / 2;
    if (!need(c, (size_t)n))
        return false;
    long v = (long)be(c->p, n);
    c->p += n;
    *micro = n == 1 ? v * 10000 : n == 2 ? v * 100 : v;
    return true;
}

/* MySQL's binary DECIMAL to text. */
static bool read_decimal(cursor *c, int precision, int scale, strbuf *out)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    int intg = precision - scale, intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
    size_t size = (size_t)(intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x]);
    if (size == 0 || size > 64 || !need(c, size))
        return false;
    unsigned char buf[64];
    memcpy(buf, c->p, size);
    c->p += size;
    bool negative = !(buf[0] & 0x80);
    buf[0] ^= 0x80;
    if (negative)
        for (size_t i = 0; i < size; i++)
            buf[i] ^= 0xFF;
    const unsigned char *p = buf;
    strbuf ip = STRBUF_INIT;
    strbuf_append(&ip, "");
    if (intg0x) {
        strbuf_appendf(&ip, "%llu", (unsigned long long)be(p, dig2bytes[intg0x]));
        p += dig2bytes[intg0x];
    }
    for (int i = 0; i < intg0; i++, p += 4)
        strbuf_appendf(&ip, "%09llu", (unsigned long long)be(p, 4));
    const char *digits = ip.data;
    while (*digits == '0' && digits[1])
        digits++;
    if (!*digits)
        digits = "0";
    if (negative)
        strbuf_append_char(out, '-');
    strbuf_append(out, digits);
    strbuf_free(&ip);
    if (scale > 0) {
        strbuf_append_char(out, '.');
        for (int i = 0; i < frac0; i++, p += 4)
            strbuf_appendf(out, "%09llu", (unsigned long long)be(p, 4));
        if (frac0x)
            strbuf_appendf(out, "%0*llu", frac0x, (unsigned long long)be(p, dig2bytes[frac0x]));
    }
    return true;
}

/* The shortest %g form that reads back to the same float or double. */
static void append_shortest(strbuf *sb, double v, bool single)
{
    char buf[40];
    for (int digits = single ? 6 : 15; digits <= (single ? 9 : 17); digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)v : back == v)
            break;
    }
    strbuf_append(sb, buf);
}

static void append_datetime(strbuf *sb, int y, int mo, int d, int h, int mi, int s)
{
    strbuf_appendf(sb, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, s);
}

/*
 * One value of column col (binlog type m, catalog column cc) at c into out. False when the
 * data is short or the type is one this reader does not decode (*why set).
 */
static bool read_value(cursor *c, const colmeta *m, const mysql_column *cc, strbuf *out, const char **why)
{
    bool u = cc->is_unsigned;
    *why = "the row data is shorter than its columns";
    switch (m->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG: {
        int n = m->type == MYSQL_TYPE_TINY    ? 1
                : m->type == MYSQL_TYPE_SHORT ? 2
                : m->type == MYSQL_TYPE_INT24 ? 3
                : m->type == MYSQL_TYPE_LONG  ? 4
                                              : 8;
        if (!need(c, (size_t)n))
            return false;
        uint64_t v = le(c->p, n);
        c->p += n;
        if (u) {
            strbuf_appendf(out, "%llu", (unsigned long long)v);
        } else {
            int64_t s = n == 8 ? (int64_t)v : (int64_t)(v << (64 - 8 * n)) >> (64 - 8 * n);
            strbuf_appendf(out, "%lld", (long long)s);
        }
        return true;
    }
    case MYSQL_TYPE_YEAR: {
        if (!need(c, 1))
            return false;
        unsigned v = *c->p++;
        strbuf_appendf(out, "%04u", v ? 1900 + v : 0);
        return true;
    }
    case MYSQL_TYPE_FLOAT: {
        if (!need(c, 4))
            return false;
        uint32_t bits = (uint32_t)le(c->p, 4);
        float f;
        memcpy(&f, &bits, 4);
        c->p += 4;
        append_shortest(out, f, true);
        return true;
    }
    case MYSQL_TYPE_DOUBLE: {
        if (!need(c, 8))
            return false;
        uint64_t bits = le(c->p, 8);
        double d;
        memcpy(&d, &bits, 8);
        c->p += 8;
        append_shortest(out, d, false);
        return true;
    }
    case MYSQL_TYPE_NEWDECIMAL:
        return read_decimal(c, (int)m->m0, (int)m->m1, out);
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE: {
        if (!need(c, 3))
            return false;
        unsigned v = (unsigned)le(c->p, 3);
        c->p += 3;
        strbuf_appendf(out, "%04u-%02u-%02u", v >> 9, (v >> 5) & 15, v & 31);
        return true;
    }
    case MYSQL_TYPE_DATETIME2: {
        if (!need(c, 5))
            return false;
        int64_t ip = (int64_t)be(c->p, 5) - 0x8000000000LL;
        c->p += 5;
        long micro = 0;
        if (!read_frac(c, (int)m->m0, &micro))
            return false;
        int64_t ymd = ip >> 17, ym = ymd >> 5, hms = ip % (1 << 17);
        append_datetime(out, (int)(ym / 13), (int)(ym % 13), (int)(ymd % 32), (int)(hms >> 12), (int)((hms >> 6) % 64),
                        (int)(hms % 64));
        put_frac(out, (unsigned long)micro, (int)m->m0);
        return true;
    }
    case MYSQL_TYPE_TIMESTAMP2: {
        if (!need(c, 4))
            return false;
        time_t secs = (time_t)be(c->p, 4);
        c->p += 4;
        long micro = 0;
        if (!read_frac(c, (int)m->m0, &micro))
            return false;
        struct tm tmv;
        gmtime_r(&secs, &tmv);
        if (secs == 0) /* the zero timestamp */
            strbuf_append(out, "0000-00-00 00:00:00");
        else
            append_datetime(out, tmv.tm_year + 1900, tmv.tm_mon + 1, tmv.tm_mday, tmv.tm_hour, tmv.tm_min, tmv.tm_sec);
        put_frac(out, (unsigned long)micro, (int)m->m0);
        return true;
    }
    case MYSQL_TYPE_TIME2: {
        /* MySQL's my_time_packed_from_binary(): integer part << 24 plus the fraction */
        int fsp = (int)m->m0;
        int64_t packed;
        if (fsp >= 5) {
            if (!need(c, 6))
                return false;
            packed = (int64_t)be(c->p, 6) - 0x800000000000LL;
            c->p += 6;
        } else {
            if (!need(c, 3))
                return false;
            int64_t ip = (int64_t)be(c->p, 3) - 0x800000LL;
            c->p += 3;
            int64_t frac = 0;
            if (fsp >= 3) {
                if (!need(c, 2))
                    return false;
                frac = (int64_t)be(c->p, 2);
                c->p += 2;
                if (ip < 0 && frac) {
                    ip++;
                    frac -= 0x10000;
                }
                frac *= 100;
            } else if (fsp >= 1) {
                if (!need(c, 1))
                    return false;
                frac = *c->p++;
                if (ip < 0 && frac) {
                    ip++;
                    frac -= 0x100;
                }
                frac *= 10000;
            }
            packed = ip * (1LL << 24) + frac;
        }
        bool neg = packed < 0;
        if (neg)
            packed = -packed;
        int64_t hms = packed >> 24;
        long micro = (long)(packed % (1LL << 24));
        strbuf_appendf(out, "%s%02d:%02d:%02d", neg ? "-" : "", (int)((hms >> 12) % (1 << 10)), (int)((hms >> 6) % 64),
                       (int)(hms % 64));
        put_frac(out, (unsigned long)micro, fsp);
        return true;
    }
    case MYSQL_TYPE_BIT: {
        unsigned bits = m->m1 * 8 + m->m0;
        size_t n = m->m1 + (m->m0 ? 1 : 0);
        if (!need(c, n))
            return false;
        uint64_t v = be(c->p, (int)n);
        c->p += n;
        for (int i = (int)bits - 1; i >= 0; i--)
            strbuf_append_char(out, (v >> i) & 1 ? '1' : '0');
        return true;
    }
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING: {
        unsigned max = m->m0 | (m->m1 << 8);
        return read_prefixed(c, max < 256 ? 1 : 2, out);
    }
    case MYSQL_TYPE_STRING: {
        unsigned real = m->m0, max = m->m1;
        if ((m->m0 & 0x30) != 0x30) {
            real = m->m0 | 0x30;
            max = m->m1 | (((m->m0 & 0x30) ^ 0x30) << 4);
        }
        if (real == MYSQL_TYPE_ENUM) {
            int n = (int)m->m1;
            if (!need(c, (size_t)n))
                return false;
            unsigned idx = (unsigned)le(c->p, n);
            c->p += n;
            if (idx > cc->values.count) {
                *why = "an ENUM member the catalog does not list (a zero byte in it, or a changed column)";
                return false; /* never written as another value */
            }
            if (idx > 0)
                strbuf_append(out, cc->values.items[idx - 1]);
            return true; /* 0: MySQL's '' error value */
        }
        if (real == MYSQL_TYPE_SET) {
            int n = (int)m->m1;
            if (!need(c, (size_t)n))
                return false;
            uint64_t mask = le(c->p, n);
            c->p += n;
            if (cc->values.count < 64 && (mask >> cc->values.count) != 0) {
                *why = "a SET member the catalog does not list (a zero byte in it, or a changed column)";
                return false;
            }
            bool first = true;
            for (size_t i = 0; i < cc->values.count && i < 64; i++)
                if (mask & (1ULL << i)) {
                    if (!first)
                        strbuf_append_char(out, ',');
                    strbuf_append(out, cc->values.items[i]);
                    first = false;
                }
            return true;
        }
        return read_prefixed(c, max < 256 ? 1 : 2, out);
    }
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_GEOMETRY: {
        return m->m0 >= 1 && m->m0 <= 4 && read_prefixed(c, (int)m->m0, out);
    }
    default:
        *why = "a column type this reader does not decode (MySQL 8 JSON, or a pre-5.6 temporal format)";
        return false;
    }
}

static int popcount_bits(const unsigned char *bm, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += (bm[i / 8] >> (i % 8)) & 1;
    return k;
}

/* One image (the columns present in bitmap) at c into vals[ncols]. */
static bool read_image(cursor *c, const colmeta *metas, const mysql_table *t, const unsigned char *bitmap,
                       mysql_binlog_value *vals, const char **why)
{
    size_t n = t->ncolumns;
    int present = popcount_bits(bitmap, n);
    size_t nb = (size_t)(present + 7) / 8;
    if (!need(c, nb)) {
        *why = "the row data is shorter than its null bitmap";
        return false;
    }
    const unsigned char *nulls = c->p;
    c->p += nb;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        vals[i] = (mysql_binlog_value){NULL, 0, true};
        if (!((bitmap[i / 8] >> (i % 8)) & 1))
            continue; /* not in the image (binlog_row_image other than FULL) */
        bool is_null = (nulls[k / 8] >> (k % 8)) & 1;
        k++;
        if (is_null)
            continue;
        strbuf sb = STRBUF_INIT;
        strbuf_append(&sb, "");
        if (!read_value(c, &metas[i], &t->columns[i], &sb, why)) {
            strbuf_free(&sb);
            return false;
        }
        vals[i].len = sb.len;
        vals[i].data = strbuf_detach(&sb);
        vals[i].is_null = false;
    }
    return true;
}

/* ---- the stream ---- */

bool mysql_binlog_note_lost(const mysql_binlog_opts *o, unsigned int e, const char *fmt, ...)
{
    if (!o->lost || (e != 0 && !mysql_errno_lost(e)))
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->lost, o->lost_size, fmt, ap);
    va_end(ap);
    return true;
}

typedef struct tmap {
    uint64_t table_id;
    const mysql_table *table; /* NULL: a table not captured */
    colmeta *metas;
    size_t ncols;
} tmap;

typedef struct stream {
    mysql_conn *c;
    const mysql_binlog_opts *o;
    tmap *maps;
    size_t nmaps;
    mysql_binlog_txn txn;
    size_t cap;
    bool in_txn;
    char gtid[64];
    mysql_binlog_pos at;
    /*
     * XA transactions prepared in this stream without a row of a captured table, as their
     * XA COMMIT prints them ("X'78',X'',1"): committing one of them loses nothing.
     */
    strlist xa_harmless;
} stream;

static void free_values(mysql_binlog_value *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

static void txn_clear(stream *s)
{
    for (size_t i = 0; i < s->txn.nrows; i++) {
        free_values(s->txn.rows[i].before, s->txn.rows[i].ncols);
        free_values(s->txn.rows[i].after, s->txn.rows[i].ncols);
    }
    s->txn.nrows = 0;
}

static tmap *find_map(stream *s, uint64_t id)
{
    for (size_t i = 0; i < s->nmaps; i++)
        if (s->maps[i].table_id == id)
            return &s->maps[i];
    return NULL;
}

/* The most bytes a character of the set takes; 0 when not known here (the width is then not checked). */
static unsigned charset_maxlen(const char *cs)
{
    static const struct {
        const char *name;
        unsigned n;
    } sets[] = {{"latin1", 1}, {"ascii", 1}, {"binary", 1}, {"latin2", 1}, {"cp1251", 1}, {"koi8r", 1},
                {"utf8", 3},   {"utf8mb3", 3}, {"utf8mb4", 4}, {"ucs2", 2}, {"utf16", 4}, {"utf32", 4}};
    for (size_t i = 0; cs && i < ARRAY_LEN(sets); i++)
        if (str_eq(cs, sets[i].name))
            return sets[i].n;
    return cs ? 0 : 1; /* no character set: a binary type */
}

static bool is_one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (str_eq(v, *set))
            return true;
    return false;
}

/* The binlog's type code as a type name, for messages. */
static const char *binlog_type_name(unsigned t)
{
    switch (t) {
    case MYSQL_TYPE_TINY: return "tinyint";
    case MYSQL_TYPE_SHORT: return "smallint";
    case MYSQL_TYPE_INT24: return "mediumint";
    case MYSQL_TYPE_LONG: return "int";
    case MYSQL_TYPE_LONGLONG: return "bigint";
    case MYSQL_TYPE_FLOAT: return "float";
    case MYSQL_TYPE_DOUBLE: return "double";
    case MYSQL_TYPE_NEWDECIMAL: return "decimal";
    case MYSQL_TYPE_DATE: case MYSQL_TYPE_NEWDATE: return "date";
    case MYSQL_TYPE_TIME: case MYSQL_TYPE_TIME2: return "time";
    case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_DATETIME2: return "datetime";
    case MYSQL_TYPE_TIMESTAMP: case MYSQL_TYPE_TIMESTAMP2: return "timestamp";
    case MYSQL_TYPE_YEAR: return "year";
    case MYSQL_TYPE_BIT: return "bit";
    case MYSQL_TYPE_VARCHAR: case MYSQL_TYPE_VAR_STRING: return "varchar/varbinary";
    case MYSQL_TYPE_STRING: return "char/binary";
    case MYSQL_TYPE_ENUM: return "enum";
    case MYSQL_TYPE_SET: return "set";
    case MYSQL_TYPE_BLOB: return "text/blob";
    case MYSQL_TYPE_GEOMETRY: return "geometry";
    default: return "another type";
    }
}

/*
 * Does the table map's column (type and metadata) fit the catalog's column? A DDL that keeps the
 * column count (columns reordered, a type, width, scale or precision changed) would otherwise
 * decode the binlog's values into the wrong columns. why: what differs. Types not listed here
 * (MariaDB's inet6, uuid, ...) are not checked. Two columns of exactly the same type swapped
 * cannot be told apart from the table map (it has no column names by default).
 */
static bool column_fits(const colmeta *m, const mysql_column *cc, char *why, size_t whylen)
{
    static const char *const blobs[] = {"tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob",
                                        "mediumblob", "longblob", "json", NULL};
    static const char *const geoms[] = {"geometry", "point", "linestring", "polygon", "multipoint",
                                        "multilinestring", "multipolygon", "geometrycollection", NULL};
    const char *dt = cc->data_type;
    unsigned t = m->type, want = 0, want2 = 0;
    if (str_eq(dt, "tinyint"))
        want = MYSQL_TYPE_TINY;
    else if (str_eq(dt, "smallint"))
        want = MYSQL_TYPE_SHORT;
    else if (str_eq(dt, "mediumint"))
        want = MYSQL_TYPE_INT24;
    else if (str_eq(dt, "int") || str_eq(dt, "integer"))
        want = MYSQL_TYPE_LONG;
    else if (str_eq(dt, "bigint"))
        want = MYSQL_TYPE_LONGLONG;
    else if (str_eq(dt, "float"))
        want = MYSQL_TYPE_FLOAT;
    else if (str_eq(dt, "double") || str_eq(dt, "real"))
        want = MYSQL_TYPE_DOUBLE;
    else if (str_eq(dt, "decimal") || str_eq(dt, "numeric"))
        want = MYSQL_TYPE_NEWDECIMAL;
    else if (str_eq(dt, "date"))
        want = MYSQL_TYPE_DATE, want2 = MYSQL_TYPE_NEWDATE;
    else if (str_eq(dt, "time"))
        want = MYSQL_TYPE_TIME2, want2 = MYSQL_TYPE_TIME;
    else if (str_eq(dt, "datetime"))
        want = MYSQL_TYPE_DATETIME2, want2 = MYSQL_TYPE_DATETIME;
    else if (str_eq(dt, "timestamp"))
        want = MYSQL_TYPE_TIMESTAMP2, want2 = MYSQL_TYPE_TIMESTAMP;
    else if (str_eq(dt, "year"))
        want = MYSQL_TYPE_YEAR;
    else if (str_eq(dt, "bit"))
        want = MYSQL_TYPE_BIT;
    else if (str_eq(dt, "varchar") || str_eq(dt, "varbinary"))
        want = MYSQL_TYPE_VARCHAR, want2 = MYSQL_TYPE_VAR_STRING;
    else if (str_eq(dt, "char") || str_eq(dt, "binary") || str_eq(dt, "enum") || str_eq(dt, "set"))
        want = MYSQL_TYPE_STRING;
    else if (is_one_of(dt, blobs))
        want = MYSQL_TYPE_BLOB;
    else if (is_one_of(dt, geoms))
        want = MYSQL_TYPE_GEOMETRY;
    else
        return true;
    if (t != want && t != want2) {
        snprintf(why, whylen, "%s in the binlog, %s in the catalog", binlog_type_name(t), cc->column_type);
        return false;
    }
    unsigned mb = charset_maxlen(cc->charset);
    switch (t) {
    case MYSQL_TYPE_NEWDECIMAL:
        if (cc->precision >= 0 && cc->scale >= 0 && (m->m0 != (unsigned)cc->precision || m->m1 != (unsigned)cc->scale)) {
            snprintf(why, whylen, "decimal(%u,%u) in the binlog, %s in the catalog", m->m0, m->m1, cc->column_type);
            return false;
        }
        break;
    case MYSQL_TYPE_TIME2:
    case MYSQL_TYPE_DATETIME2:
    case MYSQL_TYPE_TIMESTAMP2:
        if (m->m0 != (unsigned)cc->fsp) {
            snprintf(why, whylen, "%u fractional digits in the binlog, %s in the catalog", m->m0, cc->column_type);
            return false;
        }
        break;
    case MYSQL_TYPE_BIT:
        if (cc->length >= 0 && m->m1 * 8 + m->m0 != (unsigned long long)cc->length) {
            snprintf(why, whylen, "bit(%u) in the binlog, %s in the catalog", m->m1 * 8 + m->m0, cc->column_type);
            return false;
        }
        break;
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
        if (mb && cc->length >= 0 && (m->m0 | (m->m1 << 8)) != (unsigned long long)cc->length * mb) {
            snprintf(why, whylen, "%u bytes wide in the binlog, %s in the catalog", m->m0 | (m->m1 << 8), cc->column_type);
            return false;
        }
        break;
    case MYSQL_TYPE_STRING: {
        unsigned real = m->m0, max = m->m1;
        if ((m->m0 & 0x30) != 0x30) {
            real = m->m0 | 0x30;
            max = m->m1 | (((m->m0 & 0x30) ^ 0x30) << 4);
        }
        unsigned want_real = str_eq(dt, "enum") ? MYSQL_TYPE_ENUM : str_eq(dt, "set") ? MYSQL_TYPE_SET : MYSQL_TYPE_STRING;
        if (real != want_real) {
            snprintf(why, whylen, "%s in the binlog, %s in the catalog", binlog_type_name(real), cc->column_type);
            return false;
        }
        if (real == MYSQL_TYPE_STRING && mb && cc->length >= 0 && max != (unsigned long long)cc->length * mb) {
            snprintf(why, whylen, "%u bytes wide in the binlog, %s in the catalog", max, cc->column_type);
            return false;
        }
        break;
    }
    case MYSQL_TYPE_BLOB: {
        unsigned lb = str_starts_with(dt, "tiny") ? 1 : str_starts_with(dt, "medium") ? 3
                      : str_starts_with(dt, "long") || str_eq(dt, "json") ? 4 : 2;
        if (m->m0 != lb) {
            snprintf(why, whylen, "a %u-byte length in the binlog, %s in the catalog", m->m0, cc->column_type);
            return false;
        }
        break;
    }
    default:
        break;
    }
    return true;
}

/*
 * With binlog_row_metadata=FULL the table map names its columns (each a length-prefixed string):
 * then a swap of two columns of the same type, which the types cannot show, is caught too.
 */
static bool names_fit(const struct st_mariadb_rpl_table_map_event *tm, const mysql_table *t, const char *db,
                      const char *name)
{
    const unsigned char *p = tm->column_names.data, *end = p + tm->column_names.length;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (p >= end || *p >= 251 || (size_t)(end - p - 1) < *p)
            return true; /* not a form read here (a name of 251 bytes or more): nothing to compare */
        size_t len = *p++;
        const char *col = t->columns[i].name;
        if (strlen(col) != len || strncasecmp(col, (const char *)p, len) != 0) {
            log_report(LOG_ERROR, "the table's layout changed after the schema was read (a DDL while streaming)",
                       "apply the change to the target too, then start the migration again with --start-clean",
                       "MySQL binlog: table %s.%s column %zu is %.*s in the binlog, %s in the catalog", db, name,
                       i + 1, (int)len, (const char *)p, col);
            return false;
        }
        p += len;
    }
    return true;
}

static bool on_table_map(stream *s, const MARIADB_RPL_EVENT *ev)
{
    const struct st_mariadb_rpl_table_map_event *tm = &ev->event.table_map;
    tmap *m = find_map(s, tm->table_id);
    if (!m) {
        s->maps = xrealloc(s->maps, (s->nmaps + 1) * sizeof *s->maps);
        m = &s->maps[s->nmaps++];
        memset(m, 0, sizeof *m);
        m->table_id = tm->table_id;
    }
    free(m->metas);
    m->metas = NULL;
    m->table = NULL;
    char *db = xstrndup(tm->database.str, tm->database.length);
    char *name = xstrndup(tm->table.str, tm->table.length);
    if (str_eq(db, s->o->catalog->database))
        m->table = mysql_catalog_table(s->o->catalog, name);
    bool ok = true;
    if (m->table && m->table->ncolumns != tm->column_count) {
        log_report(LOG_ERROR, "the binlog row has a different number of columns than the schema read at the start",
                   "restart the export after the schema change (DDL while streaming is not supported)",
                   "MySQL binlog: table %s.%s has %u columns in the binlog, %zu in the catalog", db, name,
                   tm->column_count, m->table->ncolumns);
        ok = false;
    }
    if (ok && m->table) {
        m->ncols = tm->column_count;
        m->metas = xcalloc(m->ncols ? m->ncols : 1, sizeof *m->metas);
        const unsigned char *mp = (const unsigned char *)tm->metadata.str, *mend = mp + tm->metadata.length;
        for (size_t i = 0; i < m->ncols; i++) {
            colmeta *cm = &m->metas[i];
            cm->type = (unsigned char)tm->column_types.str[i];
            unsigned k = meta_size(cm->type);
            if (mp + k > mend) {
                log_error("MySQL binlog: table map of %s.%s: metadata shorter than its columns", db, name);
                ok = false;
                break;
            }
            if (k >= 1)
                cm->m0 = mp[0];
            if (k == 2)
                cm->m1 = mp[1];
            mp += k;
            char why[160];
            if (!column_fits(cm, &m->table->columns[i], why, sizeof why)) {
                log_report(LOG_ERROR, "the table's layout changed after the schema was read (a DDL while streaming)",
                           "apply the change to the target too, then start the migration again with --start-clean",
                           "MySQL binlog: table %s.%s column %zu (%s in the catalog): %s", db, name, i + 1,
                           m->table->columns[i].name, why);
                ok = false;
                break;
            }
        }
    }
    if (ok && m->table && tm->column_names.length)
        ok = names_fit(tm, m->table, db, name);
    free(db);
    free(name);
    return ok;
}

static bool on_rows(stream *s, const MARIADB_RPL_EVENT *ev)
{
    const struct st_mariadb_rpl_rows_event *re = &ev->event.rows;
    tmap *m = find_map(s, re->table_id);
    if (!m) {
        log_error("MySQL binlog: a row event for table id %llu without its table map", (unsigned long long)re->table_id);
        return false;
    }
    if (!m->table)
        return true; /* not captured */
    if (re->column_count != m->ncols) {
        log_error("MySQL binlog: row event with %u columns for table %s of %zu", re->column_count, m->table->name, m->ncols);
        return false;
    }
    /*
     * binlog_row_image is a session variable: a privileged session (or a global change after the
     * start) writes MINIMAL or NOBLOB images, whose missing columns would read as NULL.
     */
    size_t n = m->ncols;
    bool update = re->type == UPDATE_ROWS;
    if (popcount_bits(re->column_bitmap, n) != (int)n ||
        (update && re->column_update_bitmap && popcount_bits(re->column_update_bitmap, n) != (int)n)) {
        log_report(LOG_ERROR, "a row image without every column (binlog_row_image MINIMAL or NOBLOB in some session) "
                   "cannot be applied without guessing the missing values",
                   "keep binlog_row_image = FULL globally and in every session, then start the migration again "
                   "with --start-clean",
                   "MySQL binlog: a change of table %s at %s:%u does not carry every column", m->table->name,
                   s->at.file, ev->next_event_pos);
        return false;
    }
    cursor c = {(const unsigned char *)re->row_data, (const unsigned char *)re->row_data + re->row_data_size};
    mysql_binlog_op op = re->type == WRITE_ROWS ? MYSQL_BINLOG_INSERT
                         : re->type == UPDATE_ROWS ? MYSQL_BINLOG_UPDATE
                                                   : MYSQL_BINLOG_DELETE;
    while (c.p < c.end) {
        if (s->txn.nrows == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 16;
            s->txn.rows = xrealloc(s->txn.rows, s->cap * sizeof *s->txn.rows);
        }
        mysql_binlog_row *row = &s->txn.rows[s->txn.nrows];
        memset(row, 0, sizeof *row);
        row->op = op;
        row->table = m->table;
        row->ncols = m->ncols;
        const char *why = NULL;
        bool ok = true;
        if (op != MYSQL_BINLOG_INSERT) {
            row->before = xcalloc(m->ncols ? m->ncols : 1, sizeof *row->before);
            ok = read_image(&c, m->metas, m->table, re->column_bitmap, row->before, &why);
        }
        if (ok && op != MYSQL_BINLOG_DELETE) {
            row->after = xcalloc(m->ncols ? m->ncols : 1, sizeof *row->after);
            ok = read_image(&c, m->metas, m->table,
                            op == MYSQL_BINLOG_UPDATE ? re->column_update_bitmap : re->column_bitmap, row->after, &why);
        }
        s->txn.nrows++; /* owned by the transaction from here, freed with it */
        if (!ok) {
            log_error("MySQL binlog: cannot decode a row of %s at %s:%u: %s", m->table->name, s->at.file,
                      ev->next_event_pos, why);
            return false;
        }
    }
    return true;
}

/* The XA transaction's id as the server prints it in XA COMMIT / XA ROLLBACK: X'gtrid',X'bqual',formatID. */
static char *xa_id(const struct st_mariadb_rpl_xa_prepare_log_event *xa)
{
    strbuf sb = STRBUF_INIT;
    const unsigned char *d = (const unsigned char *)xa->xid.str;
    size_t n = xa->xid.length, g = xa->gtrid_len < n ? xa->gtrid_len : n;
    strbuf_append(&sb, "X'");
    for (size_t i = 0; i < g; i++)
        strbuf_appendf(&sb, "%02x", d[i]);
    strbuf_append(&sb, "',X'");
    for (size_t i = g; i < n && i < g + xa->bqual_len; i++)
        strbuf_appendf(&sb, "%02x", d[i]);
    strbuf_appendf(&sb, "',%u", (unsigned)xa->format_id);
    return strbuf_detach(&sb);
}

static const char xa_fix[] =
    "commit XA transactions on the migrated tables in one phase (XA COMMIT ... ONE PHASE) or use plain "
    "transactions, then start the migration again with --start-clean";

/*
 * A two-phase XA transaction's rows are in its XA PREPARE group, its commit (or rollback) in a
 * later group that carries no rows, possibly after a restart of this stream: the rows cannot be
 * handed on as one committed transaction from here, and dropping them loses them. So the stream
 * stops instead, naming the transaction.
 */
static bool on_xa_prepare(stream *s, const MARIADB_RPL_EVENT *ev)
{
    char *id = xa_id(&ev->event.xa_prepare_log);
    bool ok = true;
    if (ev->event.xa_prepare_log.one_phase) {
        /* MySQL's XA COMMIT ... ONE PHASE: committed here, handed on by the caller's commit() */
    } else if (s->txn.nrows) {
        log_report(LOG_ERROR, "a two-phase XA transaction's rows are committed later, by an XA COMMIT this reader cannot match",
                   xa_fix, "MySQL binlog: XA transaction %s, prepared at %s:%u, changes table %s", id, s->at.file,
                   ev->next_event_pos, s->txn.rows[0].table->name);
        ok = false;
    } else {
        strlist_push(&s->xa_harmless, id);
    }
    free(id);
    return ok;
}

/* XA COMMIT 'x' (not ONE PHASE): safe only when this stream saw 'x' prepared without captured rows. */
static bool on_xa_commit(stream *s, const MARIADB_RPL_EVENT *ev, const char *id, size_t len)
{
    for (size_t i = 0; i < s->xa_harmless.count; i++) {
        const char *h = s->xa_harmless.items[i];
        if (strlen(h) == len && strncasecmp(h, id, len) == 0)
            return true;
    }
    log_report(LOG_ERROR, "its XA PREPARE is before the point this reader started from, so its rows may be missing",
               xa_fix, "MySQL binlog: XA COMMIT %.*s at %s:%u commits an XA transaction prepared earlier", (int)len,
               id, s->at.file, ev->next_event_pos);
    return false;
}

/* ---- TRUNCATE TABLE in a Query event ---- */

/* Past white space and comments; the markers of an executable comment are skipped, its text kept. */
static const char *skip_blank(const char *p, const char *end)
{
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
        } else if (end - p >= 3 && (p[2] == '!' || (end - p >= 4 && p[2] == 'M' && p[3] == '!')) && p[0] == '/' &&
                   p[1] == '*') {
            p += p[2] == '!' ? 3 : 4;
            while (p < end && *p >= '0' && *p <= '9')
                p++;
        } else if (end - p >= 2 && p[0] == '*' && p[1] == '/') {
            p += 2; /* the end of an executable comment */
        } else if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
            const char *close = p + 2;
            while (close + 1 < end && !(close[0] == '*' && close[1] == '/'))
                close++;
            p = close + 1 < end ? close + 2 : end;
        } else if (*p == '#' || (end - p >= 3 && p[0] == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t'))) {
            while (p < end && *p != '\n')
                p++;
        } else {
            break;
        }
    }
    return p;
}

/* The keyword kw (case-insensitive, whole word) at *p: moved past it and the blanks after. */
static bool take_keyword(const char **p, const char *end, const char *kw)
{
    size_t n = strlen(kw);
    if ((size_t)(end - *p) < n || strncasecmp(*p, kw, n) != 0)
        return false;
    const char *q = *p + n;
    if (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$'))
        return false;
    *p = skip_blank(q, end);
    return true;
}

/* An identifier (bare, `quoted` or "quoted", the quote doubled inside) at *p into out (caller frees). */
static bool take_ident(const char **p, const char *end, char **out)
{
    const char *q = *p;
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    if (q < end && (*q == '`' || *q == '"')) {
        char quote = *q++;
        if (!str_take_quoted(&q, end, quote, &sb)) {
            strbuf_free(&sb);
            return false;
        }
    } else {
        while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '$' || (unsigned char)*q >= 0x80))
            strbuf_append_char(&sb, *q++);
    }
    if (sb.len == 0) {
        strbuf_free(&sb);
        return false;
    }
    *out = strbuf_detach(&sb);
    *p = skip_blank(q, end);
    return true;
}

/*
 * A TRUNCATE [TABLE] [db.]name statement: 1 with db (the statement's or the event's default) and
 * name set (caller frees), 0 when the statement is not a TRUNCATE, -1 when it is one this cannot read.
 */
static int parse_truncate(const MARIADB_STRING *stmt, const MARIADB_STRING *dflt, char **db, char **name)
{
    const char *p = stmt->str, *end = stmt->str + stmt->length;
    *db = *name = NULL;
    p = skip_blank(p, end);
    if (!take_keyword(&p, end, "TRUNCATE"))
        return 0;
    take_keyword(&p, end, "TABLE");
    char *first = NULL, *second = NULL;
    if (!take_ident(&p, end, &first))
        return -1;
    if (p < end && *p == '.') {
        p = skip_blank(p + 1, end);
        if (!take_ident(&p, end, &second)) {
            free(first);
            return -1;
        }
    }
    if (second) {
        *db = first;
        *name = second;
    } else {
        *db = xstrndup(dflt->str, dflt->length);
        *name = first;
    }
    return 1;
}

/* A TRUNCATE of a captured table: a transaction of one TRUNCATE row. False: stop (logged). */
static bool on_truncate(stream *s, const MARIADB_RPL_EVENT *ev)
{
    char *db = NULL, *name = NULL;
    int r = parse_truncate(&ev->event.query.statement, &ev->event.query.database, &db, &name);
    bool ok = true;
    if (r < 0) {
        log_report(LOG_ERROR, "the table it empties cannot be read from the statement, so it may be a migrated one",
                   "empty the table with DELETE instead, then start the migration again with --start-clean",
                   "MySQL binlog: TRUNCATE statement at %s:%u: %.*s", s->at.file, ev->next_event_pos,
                   (int)(ev->event.query.statement.length > 200 ? 200 : ev->event.query.statement.length),
                   ev->event.query.statement.str);
        ok = false;
    } else if (r > 0 && str_eq(db, s->o->catalog->database)) {
        const mysql_table *t = mysql_catalog_table(s->o->catalog, name);
        if (t) {
            txn_clear(s);
            if (s->cap == 0) {
                s->cap = 16;
                s->txn.rows = xrealloc(s->txn.rows, s->cap * sizeof *s->txn.rows);
            }
            s->txn.rows[0] = (mysql_binlog_row){.op = MYSQL_BINLOG_TRUNCATE, .table = t, .ncols = t->ncolumns};
            s->txn.nrows = 1;
        }
    }
    free(db);
    free(name);
    return ok;
}

static bool commit(stream *s, const MARIADB_RPL_EVENT *ev, mysql_binlog_txn_fn fn, void *arg, bool *stop)
{
    s->at.offset = ev->next_event_pos;
    snprintf(s->at.gtid, sizeof s->at.gtid, "%s", s->gtid);
    s->in_txn = false;
    if (s->txn.nrows == 0)
        return true;
    s->txn.commit = s->at;
    bool go_on = fn(arg, &s->txn);
    txn_clear(s);
    if (!go_on)
        *stop = true;
    return true;
}

bool mysql_binlog_stream(mysql_conn *c, const mysql_binlog_opts *o, mysql_binlog_txn_fn fn, void *arg)
{
    if (o->lost)
        o->lost[0] = '\0';
    if (!mysql_conn_exec(c, "SET @master_binlog_checksum = @@global.binlog_checksum") ||
        !mysql_conn_exec(c, "SET @mariadb_slave_capability = 4"))
        return false;
    if (o->heartbeat_ms) {
        /* in nanoseconds; a number of our own, not user text */
        char sql[96];
        snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %llu",
                 (unsigned long long)o->heartbeat_ms * 1000000ULL);
        if (!mysql_conn_exec(c, sql))
            return false;
    }
    char *alg = mysql_conn_query_value(c, "SELECT @@global.binlog_checksum", 0, NULL, NULL);
    bool checksum = alg && strcasecmp(alg, "NONE") != 0;
    free(alg);
    MARIADB_RPL *rpl = mariadb_rpl_init(c->my);
    if (!rpl) {
        log_error("MySQL binlog: cannot start a replication handle: %s", mysql_error(c->my));
        return false;
    }
    unsigned int server_id = o->server_id ? o->server_id : 0x766f7961u;
    unsigned long start = (unsigned long)(o->start.offset ? o->start.offset : 4);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, o->start.file, strlen(o->start.file));
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, start);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, (unsigned int)(o->stop_at_end ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0));
    stream s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.o = o;
    s.at = o->start;
    s.at.offset = start;
    bool ok = true, stop = false;
    if (mariadb_rpl_open(rpl) != 0) {
        if (!mysql_binlog_note_lost(o, mysql_errno(c->my), "reading the binlog from %s:%lu: %s",
                                    o->start.file, start, mysql_error(c->my)))
            log_report(LOG_ERROR, mysql_error(c->my),
                   "check that the file is still in SHOW BINARY LOGS and the user has REPLICATION SLAVE",
                   "MySQL binlog: cannot read from %s:%lu on %s", o->start.file, start, c->endpoint);
        ok = false;
        stop = true;
    }
    while (!stop && !(o->interrupt && *o->interrupt)) {
        MARIADB_RPL_EVENT *ev = mariadb_rpl_fetch(rpl, NULL);
        if (!ev) {
            unsigned int e = mysql_errno(c->my);
            if (e != 0) {
                if (!mysql_binlog_note_lost(o, e, "the binlog stream broke after %s:%llu: %s (error %u)",
                                            s.at.file, s.at.offset, mysql_error(c->my), e))
                    log_error("MySQL binlog: reading from %s after %s:%llu: %s", c->endpoint, s.at.file,
                              s.at.offset, mysql_error(c->my));
                ok = false;
            } else if (!o->stop_at_end) {
                if (!mysql_binlog_note_lost(o, 0, "the server ended the binlog stream at %s:%llu", s.at.file,
                                            s.at.offset))
                    log_error("MySQL binlog: the server ended the stream at %s:%llu", s.at.file, s.at.offset);
                ok = false;
            }
            break;
        }
        switch (ev->event_type) {
        case ROTATE_EVENT: {
            /*
             * Read from the event's own bytes: Connector/C 3.3 decodes the artificial ROTATE the
             * server sends when it moves on to the next file (after a restart, say) as file "0" at
             * a garbage position. Header (19 bytes), position (8), the name, the checksum (4).
             */
            const unsigned char *d = ev->raw_data ? ev->raw_data + ev->raw_data_ofs : NULL;
            size_t tail = checksum ? 4 : 0;
            if (d && ev->raw_data_size >= ev->raw_data_ofs + ev->event_length && ev->event_length >= 27 + tail &&
                ev->event_length - 27 - tail < sizeof s.at.file) {
                snprintf(s.at.file, sizeof s.at.file, "%.*s", (int)(ev->event_length - 27 - tail),
                         (const char *)d + 27);
                s.at.offset = le(d + 19, 8);
            } else {
                snprintf(s.at.file, sizeof s.at.file, "%.*s", (int)ev->event.rotate.filename.length,
                         ev->event.rotate.filename.str);
                s.at.offset = ev->event.rotate.position;
            }
            break;
        }
        case GTID_EVENT:
            snprintf(s.gtid, sizeof s.gtid, "%u-%u-%llu", ev->event.gtid.domain_id, ev->server_id,
                     (unsigned long long)ev->event.gtid.sequence_nr);
            s.in_txn = !(ev->event.gtid.flags & FL_STANDALONE);
            txn_clear(&s);
            if (!s.in_txn)
                s.at.offset = ev->next_event_pos;
            break;
        case TABLE_MAP_EVENT:
            ok = on_table_map(&s, ev);
            break;
        case WRITE_ROWS_EVENT_V1:
        case UPDATE_ROWS_EVENT_V1:
        case DELETE_ROWS_EVENT_V1:
        case WRITE_ROWS_EVENT:
        case UPDATE_ROWS_EVENT:
        case DELETE_ROWS_EVENT:
            ok = on_rows(&s, ev);
            break;
        case WRITE_ROWS_COMPRESSED_EVENT_V1:
        case UPDATE_ROWS_COMPRESSED_EVENT_V1:
        case DELETE_ROWS_COMPRESSED_EVENT_V1:
        case WRITE_ROWS_COMPRESSED_EVENT:
        case UPDATE_ROWS_COMPRESSED_EVENT:
        case DELETE_ROWS_COMPRESSED_EVENT:
            log_report(LOG_ERROR, NULL, "SET GLOBAL log_bin_compress = OFF on the source",
                       "MySQL binlog: compressed row events are not supported");
            ok = false;
            break;
        case XID_EVENT:
            ok = commit(&s, ev, fn, arg, &stop);
            break;
        case XA_PREPARE_LOG_EVENT:
            ok = on_xa_prepare(&s, ev);
            if (ok && ev->event.xa_prepare_log.one_phase)
                ok = commit(&s, ev, fn, arg, &stop);
            break;
        case HEARTBEAT_LOG_EVENT: {
            /* The server has sent everything up to the heartbeat's position of its current file. */
            const MARIADB_STRING *f = &ev->event.heartbeat.filename;
            if (!s.in_txn && f->length == strlen(s.at.file) && strncmp(f->str, s.at.file, f->length) == 0 &&
                ev->next_event_pos > s.at.offset)
                s.at.offset = ev->next_event_pos;
            if (!s.in_txn && o->idle && !o->idle(arg, &s.at))
                stop = true;
            break;
        }
        case QUERY_EVENT: {
            const MARIADB_STRING *q = &ev->event.query.statement;
            bool is_commit = q->length == 6 && strncasecmp(q->str, "COMMIT", 6) == 0;
            static const char xa_commit[] = "XA COMMIT ";
            size_t xl = sizeof xa_commit - 1;
            if (q->length > xl && strncasecmp(q->str, xa_commit, xl) == 0) {
                /* the server prints the id and nothing after it; ONE PHASE is written as a plain transaction */
                ok = on_xa_commit(&s, ev, q->str + xl, q->length - xl);
                break;
            }
            if (!is_commit && !s.in_txn)
                ok = on_truncate(&s, ev); /* a DDL: its own group */
            if (ok && (is_commit || !s.in_txn))
                ok = commit(&s, ev, fn, arg, &stop); /* COMMIT of a non-transactional table, or a DDL */
            break;
        }
        default:
            break;
        }
        if (ev->event_type != ROTATE_EVENT && ev->next_event_pos && !s.in_txn && ev->event_type != XID_EVENT &&
            ev->event_type != QUERY_EVENT && ev->event_type != GTID_EVENT && ev->event_type != HEARTBEAT_LOG_EVENT)
            s.at.offset = ev->next_event_pos; /* between transactions: format description, checkpoints */
        mariadb_free_rpl_event(ev);
        if (!ok)
            break;
    }
    txn_clear(&s);
    strlist_free(&s.xa_harmless);
    free(s.txn.rows);
    for (size_t i = 0; i < s.nmaps; i++)
        free(s.maps[i].metas);
    free(s.maps);
    mariadb_rpl_close(rpl);
    return ok;
}
