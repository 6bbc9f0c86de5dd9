#include "snapshot/source_tables.h"

#include <stdint.h>
#include <string.h>

static void append_escaped(strbuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == '/' || *s == '.' || *s == '%')
            strbuf_appendf(sb, "%%%02X", (unsigned char)*s);
        else
            strbuf_append_char(sb, *s);
    }
}

/*
 * A base longer than this is cut and given a hash of the full name: file names
 * hold 255 bytes, and escaping triples each '.', '/' and '%' (two 63-byte
 * PostgreSQL names reach 379 bytes; a 64-character MySQL name 256). The rest
 * of a file's name ("_data.part<k>.sql.tmp") fits in what is left.
 */
enum { FILE_BASE_MAX = 200, FILE_BASE_HASH = 17 /* "~" + 16 hex digits */ };

/* FNV-1a, 64 bits: written here so that a base never changes under an export dir. */
static uint64_t name_hash(const char *schema, const char *name)
{
    uint64_t h = 14695981039346656037ULL;
    const char *parts[2] = {schema ? schema : "", name};
    for (int k = 0; k < 2; k++) {
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ 0xFF) * 1099511628211ULL; /* 0xFF never occurs in UTF-8: the parts stay apart */
    }
    return h;
}

char *src_table_file_base(const char *schema, const char *name)
{
    strbuf sb = STRBUF_INIT;
    if (schema && strcmp(schema, "public") != 0) {
        append_escaped(&sb, schema);
        strbuf_append_char(&sb, '.');
    }
    append_escaped(&sb, name);
    if (sb.len <= FILE_BASE_MAX)
        return strbuf_detach(&sb);
    size_t cut = FILE_BASE_MAX - FILE_BASE_HASH;
    /* not inside a UTF-8 character, nor inside a %XX escape */
    while (cut > 0 && ((unsigned char)sb.data[cut] & 0xC0) == 0x80)
        cut--;
    if (cut >= 1 && sb.data[cut - 1] == '%')
        cut--;
    else if (cut >= 2 && sb.data[cut - 2] == '%')
        cut -= 2;
    char *out = xasprintf("%.*s~%016llx", (int)cut, sb.data, (unsigned long long)name_hash(schema, name));
    strbuf_free(&sb);
    return out;
}
