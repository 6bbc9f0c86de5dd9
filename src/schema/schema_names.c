#include "schema/schema_names.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool schema_names_parse(const char *list, strlist *out, const char **bad)
{
    const char *p = list;
    *bad = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        strbuf name = STRBUF_INIT;
        if (*p == '"') {

            p++;
            for (;;) {
                if (!*p) {
                    *bad = "unterminated double quote";
                    strbuf_free(&name);
                    return false;
                }
                if (*p == '"') {
                    if (p[1] == '"') {
                        strbuf_append_char(&name, '"');
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                strbuf_append_char(&name, *p++);
            }
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p && *p != ',') {
                *bad = "text after a closing double quote";
                strbuf_free(&name);
                return false;
            }
        } else {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                n--;
            for (size_t i = 0; i < n; i++)
                strbuf_append_char(&name, (char)tolower((unsigned char)p[i]));
            p += n;
            while (*p == ' ' || *p == '\t')
                p++;
        }
        if (name.len == 0) {
            strbuf_free(&name);
            *bad = "empty name";
            return false;
        }
        char *s = strbuf_detach(&name);
        if (!strlist_contains(out, s))
            strlist_push_owned(out, s);
        else
            free(s);
        if (*p != ',')
            break;
        p++;
    }
    return true;
}
