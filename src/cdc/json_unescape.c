#include "cdc/json_unescape.h"

#include "core/util.h"

#include <string.h>

size_t json_literal_end(const char *s, size_t len)
{
    size_t from = 0;
    for (;;) {
        const char *q = memchr(s + from, '"', len - from);
        if (!q)
            return (size_t)-1;
        size_t at = (size_t)(q - s), bs = 0;
        while (bs < at && s[at - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0) /* an even run of backslashes escapes itself, not the quote */
            return at;
        from = at + 1;
    }
}

/* cJSON's parse_hex4: a non-hex digit makes the whole value 0 rather than an error. */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit_value(p[i]);
        if (d < 0)
            return 0;
        v = v << 4 | (unsigned)d;
    }
    return v;
}

/* \uXXXX (or a surrogate pair) at s[i..end) to UTF-8 at out; bytes read, 0 when refused. */
static size_t unicode_escape(const char *s, size_t i, size_t end, char *out, size_t *o)
{
    if (end - i < 6)
        return 0;
    unsigned cp = hex4(s + i + 2), n = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - i - 6 < 6 || s[i + 6] != '\\' || s[i + 7] != 'u')
            return 0;
        unsigned lo = hex4(s + i + 8);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + (((cp & 0x3FF) << 10) | (lo & 0x3FF));
        n = 12;
    }
    size_t k = *o;
    if (cp < 0x80) {
        out[k++] = (char)cp;
    } else if (cp < 0x800) {
        out[k++] = (char)(0xC0 | (cp >> 6));
        out[k++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[k++] = (char)(0xE0 | (cp >> 12));
        out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[k++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[k++] = (char)(0xF0 | (cp >> 18));
        out[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[k++] = (char)(0x80 | (cp & 0x3F));
    }
    *o = k;
    return n;
}

size_t json_unescape_in_place(char *s, size_t len)
{
    size_t i = 0, o = 0;
    while (i < len) {
        /* plain runs move as blocks: a long value has few escapes */
        const char *bs = memchr(s + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
        if (o != i)
            memmove(s + o, s + i, run);
        o += run;
        i += run;
        if (i >= len)
            break;
        /*
         * A backslash last: only after an invalid \uXXXX that took the
         * backslash of a pair; cJSON then reads the closing quote as the
         * escaped character.
         */
        char c = i + 1 < len ? s[i + 1] : '"', d;
        switch (c) {
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case '"':
        case '\\':
        case '/': d = c; break;
        case 'u': {
            size_t n = unicode_escape(s, i, len, s, &o);
            if (!n)
                return (size_t)-1;
            i += n;
            continue;
        }
        default: return (size_t)-1;
        }
        s[o++] = d;
        i += 2;
    }
    s[o] = '\0';
    return o;
}
