#include "schema/schema_sql.h"

#include "core/util.h"

#include <pg_query.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A statement slice from libpg_query starts right after the previous ';', so it
 * carries the blanks and comments (pg_dump's "-- Name: ..." headers) in front
 * of the statement. Skip those lexical elements only; never look inside SQL.
 */
static size_t skip_blanks_and_comments(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
            i++;
        } else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
            while (i < len && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            int depth = 1; /* SQL block comments nest */
            i += 2;
            while (i < len && depth > 0) {
                if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else {
                    i++;
                }
            }
        } else {
            break;
        }
    }
    return i;
}

static int line_at(const char *sql, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos && sql[i]; i++)
        if (sql[i] == '\n')
            line++;
    return line;
}

bool schema_sql_split(const char *sql, bool lenient, schema_stmts *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    PgQuerySplitResult r = pg_query_split_with_parser(sql);
    if (r.error) {
        if (!lenient) {
            *err = xasprintf("line %d: %s", line_at(sql, r.error->cursorpos > 0 ? (size_t)r.error->cursorpos - 1 : 0),
                             r.error->message);
            pg_query_free_split_result(r);
            return false;
        }
        pg_query_free_split_result(r);
        r = pg_query_split_with_scanner(sql);
        if (r.error) {
            *err = xasprintf("line %d: %s", line_at(sql, r.error->cursorpos > 0 ? (size_t)r.error->cursorpos - 1 : 0),
                             r.error->message);
            pg_query_free_split_result(r);
            return false;
        }
    }
    size_t total = strlen(sql);
    out->items = xcalloc(r.n_stmts ? (size_t)r.n_stmts : 1, sizeof *out->items);
    for (int i = 0; i < r.n_stmts; i++) {
        size_t loc = (size_t)r.stmts[i]->stmt_location;
        size_t len = r.stmts[i]->stmt_len ? (size_t)r.stmts[i]->stmt_len : total - loc;
        if (loc > total || len > total - loc)
            continue;
        size_t skip = skip_blanks_and_comments(sql + loc, len);
        size_t end = len;
        while (end > skip && (sql[loc + end - 1] == ' ' || sql[loc + end - 1] == '\n' ||
                              sql[loc + end - 1] == '\t' || sql[loc + end - 1] == '\r' ||
                              sql[loc + end - 1] == ';'))
            end--;
        if (end <= skip)
            continue;
        schema_stmt *st = &out->items[out->count++];
        st->sql = xstrndup(sql + loc + skip, end - skip);
        st->line = line_at(sql, loc + skip);
    }
    pg_query_free_split_result(r);
    return true;
}

void schema_stmts_free(schema_stmts *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i].sql);
    free(s->items);
    memset(s, 0, sizeof *s);
}

cJSON *schema_sql_parse(const char *stmt, const cJSON **node, char **err, int *errpos)
{
    *node = NULL;
    *err = NULL;
    if (errpos)
        *errpos = 0;
    PgQueryParseResult r = pg_query_parse(stmt);
    if (r.error) {
        *err = xstrdup(r.error->message);
        if (errpos)
            *errpos = r.error->cursorpos;
        pg_query_free_parse_result(r);
        return NULL;
    }
    cJSON *root = cJSON_Parse(r.parse_tree);
    pg_query_free_parse_result(r);
    if (!root) {
        *err = xstrdup("libpg_query returned a parse tree that is not JSON");
        return NULL;
    }
    const cJSON *stmts = cJSON_GetObjectItemCaseSensitive(root, "stmts");
    const cJSON *first = cJSON_IsArray(stmts) ? cJSON_GetArrayItem(stmts, 0) : NULL;
    const cJSON *n = first ? cJSON_GetObjectItemCaseSensitive(first, "stmt") : NULL;
    if (!cJSON_IsObject(n) || !n->child) {
        *err = xstrdup("no statement");
        cJSON_Delete(root);
        return NULL;
    }
    *node = n;
    return root;
}

const char *schema_node_type(const cJSON *node)
{
    return node && node->child ? node->child->string : "";
}

const cJSON *schema_node_body(const cJSON *node)
{
    return node ? node->child : NULL;
}

void schema_sql_hash(const char *sql, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}
