#include "cdc/import_metainfo.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* source/pg_bookkeeping.h's, where the writer makes and fills it */
#define CDC_COUNTS_TABLE "ybvoyager_metadata.ybvoyager_imported_event_count_by_table"

/* Read one part of a cdc_metainfo_table_name() form; *s advances past it. */
static char *parse_part(const char **s)
{
    const char *p = *s;
    strbuf sb = STRBUF_INIT;
    if (*p == '"') {
        p++;
        while (*p) {
            if (*p == '"' && p[1] == '"') {
                strbuf_append_char(&sb, '"');
                p += 2;
            } else if (*p == '"') {
                p++;
                break;
            } else {
                strbuf_append_char(&sb, *p++);
            }
        }
    } else {
        while (*p && *p != '.')
            strbuf_append_char(&sb, *p++);
    }
    *s = p;
    return strbuf_detach(&sb);
}

bool cdc_import_counts_by_table(pgconn *c, const char *migration_uuid, cdc_table_count **out,
                                size_t *count)
{
    *out = NULL;
    *count = 0;
    int exists = pgconn_relation_exists(c, CDC_COUNTS_TABLE);
    if (exists <= 0)
        return exists == 0;
    const char *p[1] = {migration_uuid};
    PGresult *r = pgconn_query(c,
                               "SELECT table_name, sum(num_inserts), sum(num_updates), "
                               "sum(num_deletes) FROM " CDC_COUNTS_TABLE
                               " WHERE migration_uuid = $1 GROUP BY table_name ORDER BY table_name",
                               1, p);
    if (!r)
        return false;
    int n = PQntuples(r);
    *out = xcalloc(n ? (size_t)n : 1, sizeof **out);
    for (int i = 0; i < n; i++) {
        cdc_table_count *t = &(*out)[i];
        const char *s = PQgetvalue(r, i, 0);
        t->schema_name = parse_part(&s);
        if (*s == '.')
            s++;
        t->table_name = parse_part(&s);
        t->inserts = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        t->updates = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        t->deletes = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    }
    *count = (size_t)n;
    PQclear(r);
    return true;
}

void cdc_import_counts_free(cdc_table_count *counts, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(counts[i].schema_name);
        free(counts[i].table_name);
    }
    free(counts);
}
