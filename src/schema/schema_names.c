#include "schema/schema_names.h"

#include "core/log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool parse(const char *list, bool fold, strlist *out, bool **quoted, const char **bad)
{
    const char *p = list;
    *bad = NULL;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        strbuf name = STRBUF_INIT;
        bool q = *p == '"';
        if (q) {

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
                strbuf_append_char(&name, fold ? (char)tolower((unsigned char)p[i]) : p[i]);
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
        bool dup = false;
        for (size_t i = 0; i < out->count && !dup; i++)
            dup = strcmp(out->items[i], s) == 0 && (!quoted || (*quoted)[i] == q);
        if (!dup) {
            if (quoted) {
                *quoted = xrealloc(*quoted, (out->count + 1) * sizeof **quoted);
                (*quoted)[out->count] = q;
            }
            strlist_push_owned(out, s);
        } else {
            free(s);
        }
        if (*p != ',')
            break;
        p++;
    }
    return true;
}

bool schema_names_parse(const char *list, strlist *out, const char **bad)
{
    return parse(list, true, out, NULL, bad);
}

bool schema_names_parse_typed(const char *list, strlist *out, bool **quoted, const char **bad)
{
    return parse(list, false, out, quoted, bad);
}

bool schema_names_refuse_reserved(const char *list)
{
    strlist names = STRLIST_INIT;
    bool *quoted = NULL;
    const char *bad = NULL;
    const char *hit = NULL;
    if (list && parse(list, false, &names, &quoted, &bad)) {
        for (size_t i = 0; !hit && i < names.count; i++) {
            const char *n = names.items[i];
            if (quoted[i] ? strcmp(n, SCHEMA_NAMES_RESERVED) == 0
                          : str_case_eq(n, SCHEMA_NAMES_RESERVED))
                hit = n;
        }
    }
    if (hit)
        log_report(LOG_ERROR,
                   "yb-voyager keeps its bookkeeping in a schema of that name on every database it "
                   "imports into: the migrated tables would be mixed with it",
                   "rename that schema on the source (ALTER SCHEMA ... RENAME TO ...) and give the "
                   "new name",
                   "--source-db-schema %s: schema name %s is reserved", list, hit);
    strlist_free(&names);
    free(quoted);
    return hit == NULL;
}
