/*
 * The binlog's text as UTF-8, decoded as the source server decodes it (mysql_charset.h).
 *
 * A legacy set's table is a tree of 256-way nodes: at the root, node->len[b] tells that byte b
 * alone is a character (its UTF-8 bytes in node->utf8[b]) and node->next[b] that codes of two or
 * more bytes start with b; the next node does the same for the second byte, and so on. A byte
 * is never both (the load refuses such a table), so each byte of a value starts at most one
 * character and the decoding needs no look-ahead: a value is one table walk per character.
 */
#include "source/mysql/mysql_charset.h"

#include "core/log.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum unicode_form { NOT_UNICODE, UCS2, UTF16, UTF16LE, UTF32 } unicode_form;

/*
 * Every character set of MariaDB 10.11 (SHOW CHARACTER SET) but binary, with the longest code of
 * a legacy set (information_schema.CHARACTER_SETS.MAXLEN). A set not here (MySQL 8's gb18030,
 * with its four-byte codes) is refused by the caller.
 */
static const struct {
    const char *name;
    mysql_charset_kind kind;
    int maxlen;
    unicode_form form;
} sets[] = {
    {"utf8mb4", MYSQL_CHARSET_UTF8, 4, NOT_UNICODE},   {"utf8mb3", MYSQL_CHARSET_UTF8, 3, NOT_UNICODE},
    {"utf8", MYSQL_CHARSET_UTF8, 3, NOT_UNICODE},      {"ucs2", MYSQL_CHARSET_UNICODE, 2, UCS2},
    {"utf16", MYSQL_CHARSET_UNICODE, 4, UTF16},        {"utf16le", MYSQL_CHARSET_UNICODE, 4, UTF16LE},
    {"utf32", MYSQL_CHARSET_UNICODE, 4, UTF32},        {"ascii", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"latin1", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},   {"latin2", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"latin5", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},   {"latin7", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"greek", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},    {"hebrew", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"cp1250", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},   {"cp1251", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"cp1256", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},   {"cp1257", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"cp850", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},    {"cp852", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"cp866", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},    {"koi8r", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"koi8u", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},    {"macroman", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"macce", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},    {"tis620", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"armscii8", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE}, {"geostd8", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"keybcs2", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},  {"dec8", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"hp8", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},      {"swe7", MYSQL_CHARSET_TABLE, 1, NOT_UNICODE},
    {"sjis", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},     {"cp932", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},
    {"big5", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},     {"euckr", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},
    {"gbk", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},      {"gb2312", MYSQL_CHARSET_TABLE, 2, NOT_UNICODE},
    {"ujis", MYSQL_CHARSET_TABLE, 3, NOT_UNICODE},     {"eucjpms", MYSQL_CHARSET_TABLE, 3, NOT_UNICODE},
};

static int set_of(const char *cs)
{
    for (size_t i = 0; cs && i < ARRAY_LEN(sets); i++)
        if (str_case_eq(cs, sets[i].name))
            return (int)i;
    return -1;
}

mysql_charset_kind mysql_charset_kind_of(const char *cs)
{
    int i = set_of(cs);
    return i < 0 ? MYSQL_CHARSET_UNKNOWN : sets[i].kind;
}

const char *mysql_charset_listed(size_t i)
{
    for (size_t k = 0; k < ARRAY_LEN(sets); k++)
        if (sets[k].kind != MYSQL_CHARSET_UTF8 && i-- == 0)
            return sets[k].name;
    return NULL;
}

typedef struct cs_node {
    unsigned char len[256]; /* bytes of the UTF-8 character the code ending with byte b is; 0: none */
    char utf8[256][4];
    struct cs_node *next[256]; /* the longer codes that go on with byte b; NULL: none */
} cs_node;

struct mysql_charset {
    int set;       /* index in sets[] */
    cs_node *root; /* a TABLE set's */
};

static void node_free(cs_node *n)
{
    if (!n)
        return;
    for (int b = 0; b < 256; b++)
        node_free(n->next[b]);
    free(n);
}

void mysql_charset_free(mysql_charset *d)
{
    if (!d)
        return;
    node_free(d->root);
    free(d);
}

const char *mysql_charset_name(const mysql_charset *d) { return sets[d->set].name; }

/* Hex digits to bytes (at most cap); -1 when s is not an even count of hex digits or too long. */
static int unhex(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (!s || n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = hex_digit_value(s[i]);
        if (v < 0)
            return -1;
        out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] << 4 | v : v);
    }
    return (int)(n / 2);
}

/* Is u[0..n) exactly one well-formed UTF-8 character (no surrogate, at most U+10FFFF)? */
static bool one_utf8_char(const unsigned char *u, int n)
{
    if (n < 1 || n > 4)
        return false;
    int want = u[0] < 0x80 ? 1 : u[0] >= 0xC2 && u[0] <= 0xDF ? 2 : u[0] >= 0xE0 && u[0] <= 0xEF ? 3
                                                                : u[0] >= 0xF0 && u[0] <= 0xF4 ? 4 : 0;
    if (want != n)
        return false;
    uint32_t cp = n == 1 ? u[0] : (uint32_t)(u[0] & (0x3F >> (n - 1)));
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return false;
        cp = cp << 6 | (u[i] & 0x3F);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    return cp >= least[n] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

/*
 * Put code (n bytes) -> utf8 (m bytes) into the tree. False when a character would start
 * another (a shorter code is a prefix of this one, or this one of a longer one).
 */
static bool table_put(cs_node *root, const unsigned char *code, int n, const unsigned char *utf8, int m)
{
    cs_node *node = root;
    for (int i = 0; i < n - 1; i++) {
        if (node->len[code[i]])
            return false;
        if (!node->next[code[i]])
            node->next[code[i]] = xcalloc(1, sizeof(cs_node));
        node = node->next[code[i]];
    }
    unsigned char last = code[n - 1];
    if (node->next[last])
        return false;
    node->len[last] = (unsigned char)m;
    memcpy(node->utf8[last], utf8, (size_t)m);
    return true;
}

mysql_charset *mysql_charset_from_rows(const char *cs, const mysql_rows *rows)
{
    int set = set_of(cs);
    if (set < 0 || sets[set].kind != MYSQL_CHARSET_TABLE) {
        log_error("BUG: mysql_charset_from_rows: %s is not a set decoded with a table", cs ? cs : "(null)");
        return NULL;
    }
    mysql_charset *d = xcalloc(1, sizeof *d);
    d->set = set;
    d->root = xcalloc(1, sizeof(cs_node));
    size_t chars = 0;
    for (size_t r = 0; r < rows->nrows; r++) {
        const char *hc = mysql_rows_get(rows, r, 0), *hu = mysql_rows_get(rows, r, 1);
        unsigned char code[4], utf8[8];
        int n = unhex(hc, hc ? strlen(hc) : 0, code, sizeof code);
        int m = unhex(hu, hu ? strlen(hu) : 0, utf8, sizeof utf8);
        if (n < 1) {
            log_error("source database: character set %s: the server's table has a row that is not a code (%s)",
                      sets[set].name, hc ? hc : "NULL");
            mysql_charset_free(d);
            return NULL;
        }
        /* not one character, or the '?' the server puts for a code it cannot convert: no character */
        if (!one_utf8_char(utf8, m) || (m == 1 && utf8[0] == '?' && !(n == 1 && code[0] == '?')))
            continue;
        if (!table_put(d->root, code, n, utf8, m)) {
            log_report(LOG_ERROR,
                       "this reader decodes a value one character at a time and cannot tell such codes apart",
                       "convert the columns to utf8mb4 (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4) or leave "
                       "the tables out with --exclude-table-list",
                       "source database: in the server's %s table, code %s is a character that starts another one "
                       "(or begins with one)",
                       sets[set].name, hc);
            mysql_charset_free(d);
            return NULL;
        }
        chars++;
    }
    if (chars == 0) {
        log_error("source database: the server's %s table has no character", sets[set].name);
        mysql_charset_free(d);
        return NULL;
    }
    return d;
}

mysql_charset *mysql_charset_load(mysql_conn *c, const char *cs)
{
    int set = set_of(cs);
    if (set < 0 || sets[set].kind == MYSQL_CHARSET_UTF8) {
        log_error("BUG: mysql_charset_load: %s is not a set this reader decodes", cs ? cs : "(null)");
        return NULL;
    }
    mysql_charset *d;
    if (sets[set].kind == MYSQL_CHARSET_UNICODE) {
        d = xcalloc(1, sizeof *d);
        d->set = set;
        return d;
    }
    /*
     * Every code the set can have, each converted alone as a SELECT through the utf8mb4 session
     * converts a column's value (the snapshot's path). Two-byte codes start with a byte >= 0x80
     * (every byte below is ASCII, one character, in every multi-byte set here); three-byte codes
     * with 0x8F (EUC-JP's SS3). WITH RECURSIVE: MariaDB 10.2+ and MySQL 8 (the seq engine is
     * MariaDB's only). The set's name comes from the list above, never from the caller.
     */
    const char *name = sets[set].name;
    char *sql = xasprintf(
        "WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n < 255), "
        "codes(code) AS (SELECT CHAR(n) FROM b%s%s) "
        "SELECT HEX(code), HEX(CONVERT(CAST(code AS CHAR CHARACTER SET %s) USING utf8mb4)) FROM codes",
        sets[set].maxlen >= 2 ? " UNION ALL SELECT CHAR(l.n, t.n) FROM b l JOIN b t WHERE l.n >= 128" : "",
        sets[set].maxlen >= 3 ? " UNION ALL SELECT CHAR(143, l.n, t.n) FROM b l JOIN b t" : "", name);
    mysql_rows r = MYSQL_ROWS_INIT;
    bool ok = mysql_conn_query(c, sql, 0, NULL, &r);
    free(sql);
    d = ok ? mysql_charset_from_rows(name, &r) : NULL;
    if (d)
        log_info("source database: character set %s: read the server's table of %zu codes, to decode the binlog's "
                 "text as the server does",
                 name, r.nrows);
    mysql_rows_free(&r);
    return d;
}

/* Room for one more character (at most 4 bytes) and its NUL; more when the value goes on. */
static inline void room(strbuf *out, size_t left)
{
    if (out->cap - out->len < 5)
        strbuf_reserve(out, 4 + left);
}

static void put_cp(strbuf *out, uint32_t cp, size_t left)
{
    room(out, left);
    char *o = out->data + out->len;
    if (cp < 0x80) {
        o[0] = (char)cp;
        out->len += 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        out->len += 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        out->len += 3;
    } else {
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        out->len += 4;
    }
}

static bool decode_unicode(unicode_form form, const unsigned char *v, size_t len, strbuf *out, size_t *bad)
{
    size_t unit = form == UTF32 ? 4 : 2;
    size_t i = 0;
    while (i < len) {
        if (len - i < unit)
            break;
        uint32_t cp;
        size_t used = unit;
        if (form == UTF32) {
            cp = (uint32_t)v[i] << 24 | (uint32_t)v[i + 1] << 16 | (uint32_t)v[i + 2] << 8 | v[i + 3];
        } else {
            cp = form == UTF16LE ? (uint32_t)v[i + 1] << 8 | v[i] : (uint32_t)v[i] << 8 | v[i + 1];
            if (form != UCS2 && cp >= 0xD800 && cp <= 0xDBFF && len - i >= 4) {
                uint32_t lo = form == UTF16LE ? (uint32_t)v[i + 3] << 8 | v[i + 2] : (uint32_t)v[i + 2] << 8 | v[i + 3];
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    used = 4;
                }
            }
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            break;
        put_cp(out, cp, len - i);
        i += used;
    }
    if (out->data)
        out->data[out->len] = '\0';
    if (i < len) {
        if (bad)
            *bad = i;
        return false;
    }
    return true;
}

bool mysql_charset_decode(const mysql_charset *d, const char *v, size_t len, strbuf *out, size_t *bad)
{
    strbuf_reserve(out, len);
    const unsigned char *u = (const unsigned char *)v;
    if (sets[d->set].kind == MYSQL_CHARSET_UNICODE)
        return decode_unicode(sets[d->set].form, u, len, out, bad);
    size_t i = 0;
    bool ok = true;
    while (i < len) {
        const cs_node *n = d->root;
        size_t j = i;
        while (!n->len[u[j]]) {
            n = n->next[u[j]];
            if (!n || ++j == len)
                break;
        }
        if (!n || j == len) {
            ok = false;
            break;
        }
        unsigned char m = n->len[u[j]];
        room(out, len - i);
        memcpy(out->data + out->len, n->utf8[u[j]], m);
        out->len += m;
        i = j + 1;
    }
    out->data[out->len] = '\0';
    if (!ok && bad)
        *bad = i;
    return ok;
}
