#include "snapshot/source_tables.h"

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

char *src_table_file_base(const char *schema, const char *name)
{
    strbuf sb = STRBUF_INIT;
    if (schema && strcmp(schema, "public") != 0) {
        append_escaped(&sb, schema);
        strbuf_append_char(&sb, '.');
    }
    append_escaped(&sb, name);
    return strbuf_detach(&sb);
}
