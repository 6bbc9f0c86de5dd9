#include "schema/schema_split.h"

#include "core/log.h"
#include "schema/schema_classify.h"
#include "schema/schema_sql.h"

#include <stdlib.h>
#include <string.h>

/* A line that is blank or only a "--" comment. */
static bool line_is_trivia(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
        i++;
    return i == n || (i + 1 < n && l[i] == '-' && l[i + 1] == '-');
}

/*
 * pg_dump 15.14+ wraps a plain dump in "\restrict KEY" ... "\unrestrict KEY"
 * (psql meta-commands, not SQL). Only such a line before the first statement
 * and after the last one is removed (blanked, so line numbers stay); a
 * backslash line anywhere else is left to the parser.
 */
static char *strip_restrict_lines(const char *dump)
{
    char *s = xstrdup(dump);
    size_t len = strlen(s);
    /* forwards, over comment lines, to the first real line */
    for (size_t pos = 0; pos < len;) {
        char *nl = memchr(s + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (s + pos)) : len - pos;
        if (strncmp(s + pos, "\\restrict ", 10) == 0) {
            memset(s + pos, ' ', n);
            break;
        }
        if (!line_is_trivia(s + pos, n))
            break;
        pos += n + 1;
    }
    /* backwards, over comment lines, to the last real line */
    size_t end = len;
    while (end > 0) {
        size_t b = end;
        if (b > 0 && s[b - 1] == '\n')
            b--;
        size_t a = b;
        while (a > 0 && s[a - 1] != '\n')
            a--;
        if (strncmp(s + a, "\\unrestrict ", 12) == 0) {
            memset(s + a, ' ', b - a);
            break;
        }
        if (!line_is_trivia(s + a, b - a))
            break;
        end = a;
    }
    return s;
}

bool schema_split_dump(const char *dump, const schema_split_opts *o, schema_split_result *r, char **err)
{
    char *sql = strip_restrict_lines(dump);
    if (o->extra) {
        char *all = xasprintf("%s\n%s", sql, o->extra);
        free(sql);
        sql = all;
    }
    schema_stmts stmts;
    bool ok = schema_sql_split(sql, true, &stmts, err);
    free(sql);
    if (!ok)
        return false;

    cJSON **roots = xcalloc(stmts.count ? stmts.count : 1, sizeof *roots);
    const cJSON **nodes = xcalloc(stmts.count ? stmts.count : 1, sizeof *nodes);
    schema_ctx ctx = SCHEMA_CTX_INIT;
    for (size_t i = 0; i < stmts.count; i++) {
        char *perr = NULL;
        roots[i] = schema_sql_parse(stmts.items[i].sql, &nodes[i], &perr, NULL);
        if (!roots[i]) {
            log_report(LOG_WARN, "it goes to uncategorized.sql for a manual look", NULL,
                       "dump line %d: libpg_query cannot parse a statement (%s)",
                       stmts.items[i].line, perr);
            free(perr);
            continue;
        }
        schema_ctx_observe(&ctx, nodes[i]);
    }
    for (size_t i = 0; i < stmts.count; i++) {
        schema_obj obj = OBJ_UNCATEGORIZED;
        if (roots[i]) {
            schema_class c = schema_classify(nodes[i], &ctx);
            if (c.session) {
                r->session_dropped++;
                continue;
            }
            obj = c.obj;
        } else {
            r->unparsed++;
        }
        if (obj == OBJ_COMMENT && !o->comments)
            continue;
        if (!o->include[obj])
            continue;
        strbuf_append(&r->files[obj], stmts.items[i].sql);
        strbuf_append(&r->files[obj], ";\n\n");
        r->counts[obj]++;
    }
    for (size_t i = 0; i < stmts.count; i++)
        cJSON_Delete(roots[i]);
    free(roots);
    free(nodes);
    schema_ctx_free(&ctx);
    schema_stmts_free(&stmts);
    return true;
}

void schema_split_result_free(schema_split_result *r)
{
    for (int t = 0; t < OBJ_COUNT; t++)
        strbuf_free(&r->files[t]);
    memset(r, 0, sizeof *r);
}
