/* compare data's reports: one text table per database pair, and the JSON form. */
#include "compare/compare.h"

#include "core/util.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 5

static const char *level_name(compare_level l)
{
    return l == COMPARE_COUNT ? "count" : l == COMPARE_ROWS ? "rows" : "checksum";
}

/* The name operators see: table for schema public, else schema.table. */
static char *display_name(const char *schema, const char *name)
{
    if (strcmp(schema, "public") == 0)
        return xstrdup(name);
    return xasprintf("%s.%s", schema, name);
}

static char *count_cell(int64_t n) { return n < 0 ? xstrdup("-") : xasprintf("%" PRId64, n); }

static void render_pair(strbuf *sb, const compare_result *r, const compare_pair_result *p)
{
    const char *copy = db_role_name(p->copy_role);
    char *upper = xstrdup(copy);
    for (char *c = upper; *c; c++)
        *c = *c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c;
    char *copy_col = xasprintf("%s ROWS", upper);
    const char *head[NCOLS] = {"TABLE", "SOURCE ROWS", copy_col, "STATUS", "DETAIL"};
    size_t w[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        w[c] = strlen(head[c]);
    char **cells = xcalloc(r->ntables * NCOLS + 1, sizeof *cells);
    size_t equal = 0;
    for (size_t i = 0; i < r->ntables; i++) {
        const compare_table_result *t = &p->tables[i];
        char **row = &cells[i * NCOLS];
        row[0] = display_name(t->schema, t->name);
        row[1] = count_cell(t->source_rows);
        row[2] = count_cell(t->copy_rows);
        row[3] = xstrdup(compare_status_name(t->status));
        row[4] = xstrdup(t->detail ? t->detail : "");
        equal += t->status == COMPARE_EQUAL;
        for (int c = 0; c < NCOLS; c++)
            if (strlen(row[c]) > w[c])
                w[c] = strlen(row[c]);
    }
    strbuf_appendf(sb, "source vs %s\n", copy);
    for (int c = 0; c < NCOLS; c++)
        strbuf_appendf(sb, "%s%-*s", c ? " | " : "", c == NCOLS - 1 ? 0 : (int)w[c], head[c]);
    strbuf_append_char(sb, '\n');
    for (int c = 0; c < NCOLS; c++) {
        strbuf_append(sb, c ? "-+-" : "");
        for (size_t k = 0; k < w[c]; k++)
            strbuf_append_char(sb, '-');
    }
    strbuf_append_char(sb, '\n');
    for (size_t i = 0; i < r->ntables; i++) {
        char **row = &cells[i * NCOLS];
        for (int c = 0; c < NCOLS; c++) {
            /* names and words left-aligned, counts right-aligned, no trailing blanks */
            int width = c == 1 || c == 2 ? (int)w[c] : c == NCOLS - 1 ? 0 : -(int)w[c];
            strbuf_appendf(sb, "%s%*s", c ? " | " : "", width, row[c]);
        }
        while (sb->len && sb->data[sb->len - 1] == ' ')
            sb->data[--sb->len] = '\0';
        strbuf_append_char(sb, '\n');
    }
    for (size_t i = 0; i < r->ntables; i++) {
        const compare_table_result *t = &p->tables[i];
        if (!t->nkeys)
            continue;
        strbuf_appendf(sb, "differing rows of %s (primary key):\n", cells[i * NCOLS]);
        for (size_t k = 0; k < t->nkeys; k++)
            strbuf_appendf(sb, "  %-8s %s\n", t->keys[k].kind, t->keys[k].key);
    }
    strbuf_appendf(sb, "%zu of %zu tables equal on %s\n", equal, r->ntables, copy);
    for (size_t i = 0; i < r->ntables * NCOLS; i++)
        free(cells[i]);
    free(cells);
    free(copy_col);
    free(upper);
}

char *compare_render_text(const compare_result *r, compare_level level)
{
    strbuf sb = STRBUF_INIT;
    strbuf_appendf(&sb, "compare data (level %s)\n", level_name(level));
    if (r->point_vsn >= 0)
        strbuf_appendf(&sb, "live migration: compared at a consistent point (source snapshot; changes "
                            "up to queue vsn %lld applied on every copy)\n",
                       (long long)r->point_vsn);
    for (size_t p = 0; p < r->npairs; p++) {
        strbuf_append_char(&sb, '\n');
        render_pair(&sb, r, &r->pairs[p]);
    }
    if (r->interrupted)
        strbuf_append(&sb, "\ninterrupted: tables not finished are reported as they stood\n");
    return strbuf_detach(&sb);
}

static void add_count(cJSON *o, const char *key, int64_t n)
{
    if (n < 0)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)n);
}

cJSON *compare_render_json(const compare_result *r, compare_level level)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "level", level_name(level));
    cJSON_AddStringToObject(root, "normalised", COMPARE_NORMALISED);
    cJSON_AddBoolToObject(root, "equal", compare_result_all_equal(r));
    cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
    if (r->point_vsn >= 0)
        cJSON_AddNumberToObject(root, "consistent_point_vsn", (double)r->point_vsn);
    else
        cJSON_AddNullToObject(root, "consistent_point_vsn");
    cJSON *pairs = cJSON_AddArrayToObject(root, "pairs");
    for (size_t p = 0; p < r->npairs; p++) {
        const compare_pair_result *pr = &r->pairs[p];
        cJSON *po = cJSON_CreateObject();
        cJSON_AddStringToObject(po, "source", "source");
        cJSON_AddStringToObject(po, "copy", db_role_name(pr->copy_role));
        cJSON *tables = cJSON_AddArrayToObject(po, "tables");
        for (size_t i = 0; i < r->ntables; i++) {
            const compare_table_result *t = &pr->tables[i];
            cJSON *o = cJSON_CreateObject();
            char *name = display_name(t->schema, t->name);
            cJSON_AddStringToObject(o, "table_name", name);
            free(name);
            cJSON_AddStringToObject(o, "schema_name", t->schema);
            cJSON_AddStringToObject(o, "table", t->name);
            add_count(o, "source_rows", t->source_rows);
            add_count(o, "copy_rows", t->copy_rows);
            cJSON_AddStringToObject(o, "status", compare_status_name(t->status));
            cJSON_AddStringToObject(o, "detail", t->detail ? t->detail : "");
            if (level == COMPARE_ROWS) {
                add_count(o, "missing_rows", t->missing);
                add_count(o, "extra_rows", t->extra);
                add_count(o, "changed_rows", t->changed);
                cJSON *keys = cJSON_AddArrayToObject(o, "differing_keys");
                for (size_t k = 0; k < t->nkeys; k++) {
                    cJSON *ko = cJSON_CreateObject();
                    cJSON_AddStringToObject(ko, "kind", t->keys[k].kind);
                    cJSON_AddStringToObject(ko, "key", t->keys[k].key);
                    cJSON_AddItemToArray(keys, ko);
                }
            }
            cJSON_AddItemToArray(tables, o);
        }
        cJSON_AddItemToArray(pairs, po);
    }
    return root;
}
