#include "core/key_parts.h"

#include <string.h>

void key_part_len(strbuf *k, const char *part, size_t n)
{
    if (!part) {
        strbuf_append_char(k, '-'); /* no length starts with '-' */
        return;
    }
    strbuf_append_int(k, (long long)n);
    strbuf_append_char(k, ':');
    strbuf_append_len(k, part, n);
}

void key_part(strbuf *k, const char *part)
{
    key_part_len(k, part, part ? strlen(part) : 0);
}
