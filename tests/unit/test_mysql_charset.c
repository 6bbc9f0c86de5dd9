/*
 * source/mysql/mysql_charset: the binlog's text decoded as the server converts it. Without a
 * server: the list, the Unicode forms, a hand-made table (and one the decoding cannot use).
 * Against a live MariaDB (tests/integration/test_mysql_charsets.sh): for every set the live
 * feed decodes, every code is decoded and compared with what a SELECT through the utf8mb4
 * session gets for the same bytes (the snapshot's path: the server converts as it sends, not
 * CONVERT() as mysql_charset_load reads the table). With glibc iconv (the decoding before this
 * module) sjis, ujis, euckr, big5, cp866, greek, hebrew, koi8u, macroman and more fail here.
 */
#include "testlib.h"
#include "test_mysql_live.h"

#include "core/log.h"
#include "core/util.h"
#include "source/mysql/mysql_charset.h"

#include <stdint.h>
#include <stdlib.h>

TEST(mysql_charset_kinds)
{
    CHECK(mysql_charset_kind_of("utf8mb4") == MYSQL_CHARSET_UTF8);
    CHECK(mysql_charset_kind_of("utf8mb3") == MYSQL_CHARSET_UTF8);
    CHECK(mysql_charset_kind_of("utf8") == MYSQL_CHARSET_UTF8);
    CHECK(mysql_charset_kind_of("ucs2") == MYSQL_CHARSET_UNICODE);
    CHECK(mysql_charset_kind_of("utf16le") == MYSQL_CHARSET_UNICODE);
    CHECK(mysql_charset_kind_of("SJIS") == MYSQL_CHARSET_TABLE);
    CHECK(mysql_charset_kind_of("ascii") == MYSQL_CHARSET_TABLE);
    CHECK(mysql_charset_kind_of("swe7") == MYSQL_CHARSET_TABLE);
    /* MySQL 8's four-byte gb18030 has no table here, nor has a name that is no set */
    CHECK(mysql_charset_kind_of("gb18030") == MYSQL_CHARSET_UNKNOWN);
    CHECK(mysql_charset_kind_of("sjis; DROP TABLE t") == MYSQL_CHARSET_UNKNOWN);
    CHECK(mysql_charset_kind_of("") == MYSQL_CHARSET_UNKNOWN);
    CHECK(mysql_charset_kind_of(NULL) == MYSQL_CHARSET_UNKNOWN);
    size_t n = 0;
    while (mysql_charset_listed(n))
        CHECK(mysql_charset_kind_of(mysql_charset_listed(n++)) != MYSQL_CHARSET_UTF8);
    CHECK_INT_EQ(n, 37); /* MariaDB 10.11's 40 sets less binary, utf8mb3 and utf8mb4 */
}

/* decode (len bytes) -> "ok:<utf8>" or "bad@<offset>:<utf8 before>". Caller frees. */
static char *decoded(const mysql_charset *d, const char *v, size_t len)
{
    strbuf out = STRBUF_INIT;
    size_t bad = 0;
    bool ok = mysql_charset_decode(d, v, len, &out, &bad);
    char *r = ok ? xasprintf("ok:%s", out.data) : xasprintf("bad@%zu:%s", bad, out.data);
    strbuf_free(&out);
    return r;
}

#define CHECK_DECODES(d, lit, want)                                                                \
    do {                                                                                           \
        char *got_ = decoded(d, lit, sizeof lit - 1);                                              \
        bool same_ = str_eq(got_, want);                                                           \
        if (!same_)                                                                                \
            test_fail(__FILE__, __LINE__, "%s: %s: got %s, want %s", mysql_charset_name(d), #lit,  \
                      got_, want);                                                                 \
        free(got_);                                                                                \
        if (!same_)                                                                                \
            return;                                                                                \
    } while (0)

TEST(mysql_charset_unicode_forms)
{
    mysql_charset *u2 = mysql_charset_load(NULL, "ucs2"), *u16 = mysql_charset_load(NULL, "utf16"),
                  *le = mysql_charset_load(NULL, "utf16le"), *u32 = mysql_charset_load(NULL, "utf32");
    CHECK(u2 && u16 && le && u32);
    CHECK_DECODES(u2, "\x00" "A\x00\xe9\x20\xac\xff\xff", "ok:Aé€\xef\xbf\xbf");
    CHECK_DECODES(u2, "\x00" "A\xd8\x3d\xde\x00", "bad@2:A"); /* no pairs in ucs2 */
    CHECK_DECODES(u2, "\x00" "A\x00", "bad@2:A");             /* half a code */
    CHECK_DECODES(u16, "\x00" "A\xd8\x3d\xde\x00", "ok:A\xf0\x9f\x98\x80");
    CHECK_DECODES(u16, "\xdb\xff\xdf\xff", "ok:\xf4\x8f\xbf\xbf");
    CHECK_DECODES(u16, "\x00" "A\xd8\x3d", "bad@2:A");        /* a high surrogate alone */
    CHECK_DECODES(u16, "\xd8\x3d\x00" "A", "bad@0:");
    CHECK_DECODES(u16, "\xdc\x00\x00" "A", "bad@0:");         /* a low one first */
    CHECK_DECODES(le, "A\x00=\xd8\x00\xde", "ok:A\xf0\x9f\x98\x80");
    CHECK_DECODES(le, "A\x00\x00\xdc", "bad@2:A");
    CHECK_DECODES(u32, "\x00\x00\x00" "A\x00\x01\xf6\x00\x00\x10\xff\xff", "ok:A\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf");
    CHECK_DECODES(u32, "\x00\x11\x00\x00", "bad@0:");
    CHECK_DECODES(u32, "\x00\x00\xd8\x00", "bad@0:");
    CHECK_DECODES(u32, "\x00\x00\x00" "A\x00", "bad@4:A");
    CHECK_DECODES(u32, "", "ok:");
    mysql_charset_free(u2), mysql_charset_free(u16), mysql_charset_free(le), mysql_charset_free(u32);
}

/* rows of (code hex, converted hex) as mysql_charset_load's query returns them */
static void rows_of(mysql_rows *r, const char *const *cells, size_t n)
{
    memset(r, 0, sizeof *r);
    r->ncols = 2;
    r->nrows = n;
    r->cells = xcalloc(2 * n + 1, sizeof *r->cells);
    r->lengths = xcalloc(2 * n + 1, sizeof *r->lengths);
    r->colnames = xcalloc(3, sizeof *r->colnames);
    r->colnames[0] = xstrdup("code");
    r->colnames[1] = xstrdup("utf8");
    for (size_t i = 0; i < 2 * n; i++) {
        r->cells[i] = xstrdup(cells[i]);
        r->lengths[i] = strlen(cells[i]);
    }
}

TEST(mysql_charset_table_from_rows)
{
    static const char *const cells[] = {
        "41", "41",         /* A */
        "3F", "3F",         /* '?' itself */
        "5C", "C2A5",       /* a set where 0x5C is the yen sign */
        "80", "3F",         /* the server's '?' for a byte it cannot convert: no character */
        "81", "3F",         /* 0x81 alone: no character... */
        "8140", "E38080",   /* ...but it starts one (U+3000) */
        "8141", "3F41",     /* two characters: not a code */
        "8F", "3F",
        "8FA1", "3F3F",
        "8FA1A1", "E4B880", /* a three-byte code (U+4E00) */
        "A0", "E282AC",     /* one byte, one character of three UTF-8 bytes */
    };
    mysql_rows r;
    rows_of(&r, cells, ARRAY_LEN(cells) / 2);
    mysql_charset *d = mysql_charset_from_rows("ujis", &r);
    mysql_rows_free(&r);
    CHECK(d != NULL);
    CHECK_DECODES(d, "A\\?", "ok:A¥?");
    CHECK_DECODES(d, "A\x81\x40\x8f\xa1\xa1\xa0", "ok:A\xe3\x80\x80\xe4\xb8\x80\xe2\x82\xac");
    CHECK_DECODES(d, "A\x80", "bad@1:A");
    CHECK_DECODES(d, "A\x81" "A", "bad@1:A");      /* a lead byte, then no code */
    CHECK_DECODES(d, "A\x81", "bad@1:A");          /* the value ends inside a code */
    CHECK_DECODES(d, "A\x8f\xa1", "bad@1:A");
    CHECK_DECODES(d, "B", "bad@0:");               /* not in this table at all */
    CHECK_DECODES(d, "", "ok:");
    mysql_charset_free(d);

    /* a byte that is a character and starts a longer one: refused, not decoded one way or the other */
    static const char *const clash[] = {"81", "C281", "8140", "E38080"};
    rows_of(&r, clash, 2);
    test_log_begin(LOG_ERROR);
    d = mysql_charset_from_rows("sjis", &r);
    char *log = test_log_end();
    mysql_rows_free(&r);
    bool said = log && strstr(log, "in the server's sjis table, code 8140 is a character that starts another one");
    free(log);
    mysql_charset_free(d);
    CHECK(d == NULL);
    CHECK(said);
}

/* ---- against the server ---- */

/* Is s[0..n) well-formed UTF-8 (no surrogate, nothing above U+10FFFF, shortest forms)? */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k || i + k > n)
            return false;
        uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x3F >> (k - 1)));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k;
    }
    return true;
}

static size_t count_byte(const unsigned char *s, size_t n, unsigned char b)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += s[i] == b;
    return c;
}

/* Is code (n bytes) U+003F in Unicode set cs? */
static bool is_question(const char *cs, const unsigned char *code, size_t n)
{
    if (str_eq(cs, "utf32"))
        return n == 4 && memcmp(code, "\0\0\0?", 4) == 0;
    if (str_eq(cs, "utf16le"))
        return n == 2 && memcmp(code, "?\0", 2) == 0;
    return n == 2 && memcmp(code, "\0?", 2) == 0;
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

typedef struct tally {
    size_t codes, chars, wrong;
} tally;

/*
 * Every row of sql: (HEX(code), the code's text as the session gets it). The decoder must give
 * exactly the server's bytes when it decodes the code, and refuse it only where the server did
 * not convert it: a '?' put for what it could not convert (more '?' than the code has 0x3F bytes;
 * for a Unicode set any '?' but U+003F's own), or bytes that are not UTF-8. Two-byte results of
 * a two-byte code also tell which lead bytes start a two-byte character (*leads, when not NULL).
 */
static bool compare_codes(mysql_conn *c, const mysql_charset *d, const char *sql, bool unicode, tally *t,
                          bool *leads)
{
    const char *cs_form = mysql_charset_name(d);
    mysql_rows r = MYSQL_ROWS_INIT;
    if (!mysql_conn_query(c, sql, 0, NULL, &r)) {
        mysql_rows_free(&r);
        return false;
    }
    strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < r.nrows; i++) {
        const char *hc = mysql_rows_get(&r, i, 0);
        const unsigned char *s = (const unsigned char *)mysql_rows_get(&r, i, 1);
        size_t sn = r.lengths[i * 2 + 1];
        unsigned char code[8];
        size_t n = strlen(hc) / 2;
        for (size_t k = 0; k < n && k < sizeof code; k++)
            code[k] = (unsigned char)(hexval(hc[2 * k]) << 4 | hexval(hc[2 * k + 1]));
        /* a '?' the code does not hold is one the server put for what it could not convert */
        bool own_question = unicode ? !memchr(s, '?', sn) || (sn == 1 && is_question(cs_form, code, n))
                                    : count_byte(s, sn, '?') <= count_byte(code, n, '?');
        bool clean = s && utf8_ok(s, sn) && own_question;
        strbuf_reset(&out);
        bool ok = mysql_charset_decode(d, (const char *)code, n, &out, NULL);
        bool right = ok ? s && out.len == sn && memcmp(out.data, s, sn) == 0 : !clean;
        t->codes++;
        t->chars += ok;
        if (!right && t->wrong++ < 8) {
            strbuf sh = STRBUF_INIT, oh = STRBUF_INIT;
            for (size_t k = 0; s && k < sn; k++)
                strbuf_appendf(&sh, "%02X", s[k]);
            for (size_t k = 0; ok && k < out.len; k++)
                strbuf_appendf(&oh, "%02X", (unsigned char)out.data[k]);
            printf("#   %s %s: the server gives %s%s, the decoder %s%s\n", mysql_charset_name(d), hc,
                   s ? sh.data ? sh.data : "''" : "NULL", clean ? "" : " (not converted)", ok ? "" : "refuses it",
                   ok ? (oh.data ? oh.data : "''") : "");
            strbuf_free(&sh), strbuf_free(&oh);
        }
        /* one character from two bytes (not two characters of one byte each), as the server says */
        if (leads && n == 2 && clean && sn >= 2 && (size_t)(s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4) == sn)
            leads[code[0]] = true;
    }
    strbuf_free(&out);
    mysql_rows_free(&r);
    return true;
}

#define CTE_BYTES "WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n < 255) "

TEST(mysql_server_charset_every_code_as_the_server)
{
    if (!mysql_live_available(__func__))
        return;
    db_conf conf = mysql_live_conf();
    mysql_conn *c = mysql_conn_open(&conf, NULL);
    CHECK(c != NULL);
    size_t sets = 0, wrong = 0;
    bool queried = true;
    for (size_t i = 0; queried && mysql_charset_listed(i); i++) {
        const char *cs = mysql_charset_listed(i);
        mysql_charset *d = mysql_charset_load(c, cs);
        if (!d) {
            printf("#   %s: no decoder\n", cs);
            wrong++;
            continue;
        }
        sets++;
        bool unicode = mysql_charset_kind_of(cs) == MYSQL_CHARSET_UNICODE;
        tally t = {0};
        bool leads[256] = {false};
        /* the converted value goes to the client as the snapshot's SELECT gets a column: by the server, as it sends */
        char *sql;
        if (!str_eq(cs, "utf32")) {
            /*
             * Every byte and every two-byte code (lead bytes below 0x80 too). Not single bytes in
             * a Unicode set: CAST pads them to a code unit, and the binlog never holds one.
             */
            sql = xasprintf(CTE_BYTES ", codes(code) AS (SELECT CHAR(n) FROM b WHERE %d UNION ALL SELECT CHAR(l.n, t.n) "
                                      "FROM b l JOIN b t) SELECT HEX(code), CAST(code AS CHAR CHARACTER SET %s) FROM codes",
                            !unicode, cs);
            queried = compare_codes(c, d, sql, unicode, &t, leads);
            free(sql);
        }
        if (queried && (str_eq(cs, "ujis") || str_eq(cs, "eucjpms"))) {
            /*
             * Three-byte codes: after 0x8F, and after every lead byte that starts no character of
             * one or two bytes (where one could hide). The others' length is fixed by their lead.
             */
            for (int l = 0x80; queried && l < 256; l++) {
                if (l != 0x8F && leads[l])
                    continue;
                sql = xasprintf(CTE_BYTES "SELECT HEX(CHAR(%d, m.n, t.n)), CAST(CHAR(%d, m.n, t.n) AS CHAR CHARACTER SET %s) "
                                          "FROM b m JOIN b t",
                                l, l, cs);
                queried = compare_codes(c, d, sql, false, &t, NULL);
                free(sql);
            }
        }
        if (queried && (str_eq(cs, "utf16") || str_eq(cs, "utf16le"))) {
            /* surrogate pairs: every high one with some low ones, some high ones with every low one, and wrong orders */
            bool le = str_eq(cs, "utf16le");
            sql = xasprintf(
                CTE_BYTES ", s(n) AS (SELECT l.n * 256 + t.n FROM b l JOIN b t WHERE l.n BETWEEN 216 AND 223), "
                          "p(h, w) AS (SELECT h.n, w.n FROM s h JOIN s w WHERE (h.n < 56320 AND w.n IN (56320, 56321, "
                          "56832, 57343)) OR (h.n IN (55296, 55357, 56319) AND w.n >= 56320) OR (h.n >= 56320 AND "
                          "w.n IN (55296, 56320)) OR (h.n IN (55296, 56319) AND w.n < 56320)), "
                          "codes(code) AS (SELECT %s FROM p) "
                          "SELECT HEX(code), CAST(code AS CHAR CHARACTER SET %s) FROM codes",
                le ? "CHAR(h MOD 256, h DIV 256, w MOD 256, w DIV 256)" : "CHAR(h DIV 256, h MOD 256, w DIV 256, w MOD 256)",
                cs);
            queried = compare_codes(c, d, sql, true, &t, NULL);
            free(sql);
        }
        if (queried && str_eq(cs, "utf32")) {
            /* the whole BMP, the first and last 256 codes of every other plane, and beyond U+10FFFF */
            sql = xasprintf(CTE_BYTES ", codes(code) AS (SELECT CHAR(0, 0, l.n, t.n) FROM b l JOIN b t "
                                      "UNION ALL SELECT CHAR(0, p.n, e.n, t.n) FROM b p JOIN b e JOIN b t WHERE p.n BETWEEN 1 "
                                      "AND 17 AND e.n IN (0, 255) UNION ALL SELECT CHAR(h.n, 0, 0, 65) FROM b h WHERE h.n > 0) "
                                      "SELECT HEX(code), CAST(code AS CHAR CHARACTER SET utf32) FROM codes");
            queried = compare_codes(c, d, sql, true, &t, NULL);
            free(sql);
        }
        printf("#   %s: %zu codes, %zu decoded, %zu not as the server\n", cs, t.codes, t.chars, t.wrong);
        wrong += t.wrong;
        mysql_charset_free(d);
    }
    mysql_conn_close(c);
    CHECK(queried);
    CHECK_INT_EQ(sets, 37);
    CHECK_INT_EQ(wrong, 0);
}
