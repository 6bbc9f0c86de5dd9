#include "snapshot/source_tables.h"

#include "core/log.h"
#include "core/util.h"
#include "catalog/snapshot_state.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *join_schemas(const char *const *schemas)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; schemas[i]; i++) {
        if (i)
            strbuf_append_char(&sb, ',');
        strbuf_append(&sb, schemas[i]);
    }
    return strbuf_detach(&sb);
}

bool src_schemas_resolve(pgconn *c, strlist *schemas)
{
    for (size_t i = 0; i < schemas->count; i++) {
        char *given = schemas->items[i];
        size_t len = strlen(given);
        bool quoted = len >= 2 && given[0] == '"' && given[len - 1] == '"';
        char *name = quoted ? xstrndup(given + 1, len - 2) : xstrdup(given);
        const char *p[1] = {name};
        PGresult *r = pgconn_query(c,
                                   quoted ? "SELECT nspname FROM pg_namespace WHERE nspname = $1"
                                          : "SELECT nspname FROM pg_namespace WHERE nspname = $1 "
                                            "UNION ALL SELECT nspname FROM pg_namespace "
                                            "WHERE lower(nspname) = lower($1) AND NOT EXISTS "
                                            "(SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                                   1, p);
        if (!r) {
            free(name);
            return false;
        }
        bool ok = PQntuples(r) == 1;
        if (ok) {
            free(schemas->items[i]);
            schemas->items[i] = xstrdup(PQgetvalue(r, 0, 0));
        } else if (PQntuples(r) == 0) {
            log_error("source database: schema '%s' (--source-db-schema) does not exist", given);
        } else {
            log_error("source database: schema '%s' (--source-db-schema) matches several schemas "
                      "that differ in case: quote it (\"Name\") to pick one",
                      given);
        }
        PQclear(r);
        free(name);
        if (!ok)
            return false;
    }
    return true;
}

static char *quoted_columns(const char *json)
{
    cJSON *arr = cJSON_Parse(json);
    strbuf sb = STRBUF_INIT;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            continue;
        char *q = pg_quote_ident(it->valuestring);
        if (sb.len)
            strbuf_append(&sb, ", ");
        strbuf_append(&sb, q);
        free(q);
    }
    cJSON_Delete(arr);
    return strbuf_detach(&sb);
}

bool src_tables_list(pgconn *c, const char *const *schemas, src_tables *out)
{
    memset(out, 0, sizeof *out);
    char *list = join_schemas(schemas);
    const char *p[1] = {list};
    PGresult *r = pgconn_query(
        c,
        "SELECT n.nspname, c.relname, c.relkind::text,"
        " CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(x.reltuples, 0)), 0)"
        "   FROM pg_partition_tree(c.oid) t JOIN pg_class x ON x.oid = t.relid)"
        "  ELSE greatest(c.reltuples, 0) END::bigint,"
        " CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0)"
        "   FROM pg_partition_tree(c.oid) t) ELSE pg_relation_size(c.oid) END,"
        " current_setting('block_size')::int,"
        " coalesce((SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a"
        "   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        "   AND a.attgenerated = ''), '[]')::text"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
        "   AND n.nspname = ANY (string_to_array($1, ','))"
        " ORDER BY 1, 2",
        1, p);
    free(list);
    if (!r)
        return false;
    int n = PQntuples(r);
    out->items = xcalloc((size_t)n + 1, sizeof *out->items);
    for (int i = 0; i < n; i++) {
        src_table *t = &out->items[i];
        t->schema = xstrdup(PQgetvalue(r, i, 0));
        t->name = xstrdup(PQgetvalue(r, i, 1));
        t->relkind = PQgetvalue(r, i, 2)[0];
        t->est_rows = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        t->bytes = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        t->block_size = atoi(PQgetvalue(r, i, 5));
        t->columns_json = xstrdup(PQgetvalue(r, i, 6));
        t->column_list = quoted_columns(t->columns_json);
    }
    out->count = (size_t)n;
    PQclear(r);
    return true;
}

void src_tables_free(src_tables *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->items[i].schema);
        free(t->items[i].name);
        free(t->items[i].columns_json);
        free(t->items[i].column_list);
    }
    free(t->items);
    memset(t, 0, sizeof *t);
}

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
