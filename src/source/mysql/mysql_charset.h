/*
 * Text in a MySQL/MariaDB character set as UTF-8, converted exactly as the source server
 * converts it.
 *
 * A SELECT through a utf8mb4 session (the snapshot, compare data) gets every text column
 * converted by the server's own character tables; the binlog carries the column's raw bytes.
 * Another library's table (glibc iconv) maps some codes to other characters (sjis 0x5C is '\'
 * to MariaDB, U+FF3C to glibc; euckr's extended Hangul are C1 controls to glibc), so a value
 * would land one way through the snapshot and another through the stream, silently. So:
 *   - a legacy set (latin1, sjis, euckr, ...) is decoded with the server's own table, read from
 *     the server once (mysql_charset_load): every single byte, every two-byte code whose lead
 *     byte is >= 0x80, and for the EUC-JP sets (ujis, eucjpms) every three-byte code after 0x8F
 *     (their only three-byte lead). A code is a character when the server converts it alone to
 *     exactly one character that is not the '?' it puts for what it cannot convert (0x3F itself
 *     is '?'). A value is decoded code by code, the one character that starts at each byte;
 *     bytes that start none stop the decoding (where the server would put a '?').
 *   - ucs2, utf16, utf16le and utf32 are decoded by their definition: a Unicode scalar value
 *     each (a surrogate pair in utf16), anything else is refused (the server gives '?' or, for a
 *     ucs2/utf32 surrogate, bytes that are not UTF-8).
 *   - utf8mb4, utf8mb3 (utf8) need no decoding.
 * tests/unit/test_mysql_charset.c checks every code of every set against the server.
 *
 * Character set names reach SQL only from this module's fixed list, never from the caller.
 * Memory: a mysql_charset owns its table; mysql_charset_free() releases it.
 */
#ifndef VOYAGER_SOURCE_MYSQL_MYSQL_CHARSET_H
#define VOYAGER_SOURCE_MYSQL_MYSQL_CHARSET_H

#include "core/util.h"
#include "source/mysql/mysql_conn.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum mysql_charset_kind {
    MYSQL_CHARSET_UNKNOWN = 0, /* not on the list: not decoded */
    MYSQL_CHARSET_UTF8,        /* utf8mb4, utf8mb3, utf8: the bytes are UTF-8 already */
    MYSQL_CHARSET_UNICODE,     /* ucs2, utf16, utf16le, utf32: decoded by their definition */
    MYSQL_CHARSET_TABLE,       /* a legacy set: decoded with the server's table */
} mysql_charset_kind;

/* What kind of set cs is (an information_schema CHARACTER_SET_NAME; ASCII case ignored). */
mysql_charset_kind mysql_charset_kind_of(const char *cs);

/* The i-th set of the list that is not UTF-8 (i from 0; NULL past the end): for the tests. */
const char *mysql_charset_listed(size_t i);

typedef struct mysql_charset mysql_charset;

/*
 * The decoder of cs (a UNICODE or TABLE set). A TABLE set's table is read from the server over
 * c (one query, logged at info level). NULL after a logged error: cs not such a set, the query
 * failed, or the server's table has a character that starts another one (which this decoding
 * code by code could not tell apart). Caller frees with mysql_charset_free().
 */
mysql_charset *mysql_charset_load(mysql_conn *c, const char *cs);

/*
 * The same from a result of mysql_charset_load's query read by the caller: each row a code's
 * bytes and what the server converts them to, both in hexadecimal. For tests.
 */
mysql_charset *mysql_charset_from_rows(const char *cs, const mysql_rows *rows);

/* The set's name, as the list spells it. */
const char *mysql_charset_name(const mysql_charset *d);

/*
 * Append the len bytes of v as UTF-8 to out (NUL-terminated). False when they are not valid
 * text in the set: *bad (when not NULL) is then the offset of the first byte that starts no
 * character, and out holds the text before it.
 */
bool mysql_charset_decode(const mysql_charset *d, const char *v, size_t len, strbuf *out, size_t *bad);

void mysql_charset_free(mysql_charset *d);

#endif
