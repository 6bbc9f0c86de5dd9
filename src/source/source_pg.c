/*
 * The PostgreSQL source (source/source.h): its catalog queries live here; the
 * COPY workers, the slot and the pgoutput stream are driven through
 * snapshot/snapshot_export.h and cdc/cdc_export.h until they move here too.
 */
#include "source/source.h"

#include "cdc/cdc_export.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/pgconn.h"
#include "migration/sequences.h"
#include "schema/pgdump.h"
#include "snapshot/snapshot_export.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg_source {
    pgconn *c;              /* the control connection */
    bool in_snapshot;       /* c holds snapshot_begin's transaction */
    cdc_export_state *feed; /* set up by feed_begin, until streamed or aborted */
} pg_source;

static pg_source *pg(source *s)
{
    if (!s->impl)
        s->impl = xcalloc(1, sizeof(pg_source));
    return s->impl;
}

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

static bool pg_schemas_resolve(pgconn *c, strlist *schemas)
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

static bool pg_tables_list(pgconn *c, const char *const *schemas, src_tables *out)
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

static engine_status pg_connect(source *s, bool quiet, char **why)
{
    pg_source *p = pg(s);
    if (p->c)
        return ENGINE_OK;
    pgconn_options co = {.quiet = quiet, .why = why};
    p->c = db_connect_recorded(s->eng->cat, s->conf, &co);
    return p->c ? ENGINE_OK : ENGINE_SOURCE_FAILED;
}

/* The control connection, opened on first need by the entries that may come first. */
static pgconn *control(source *s)
{
    pg_source *p = pg(s);
    if (!p->c)
        pg_connect(s, false, NULL);
    return p->c;
}

static bool pg_resolve_schemas(source *s, strlist *schemas)
{
    pgconn *c = control(s);
    return c && pg_schemas_resolve(c, schemas);
}

static bool pg_list_tables(source *s, const char *const *schemas, src_tables *out)
{
    memset(out, 0, sizeof *out);
    pgconn *c = control(s);
    return c && pg_tables_list(c, schemas, out);
}

static char *pg_snapshot_begin(source *s)
{
    pg_source *p = pg(s);
    pgconn *c = control(s);
    if (!c)
        return NULL;
    p->in_snapshot = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    return p->in_snapshot ? pgconn_query_value(c, "SELECT pg_export_snapshot()", 0, NULL) : NULL;
}

static void pg_snapshot_end(source *s, bool commit)
{
    pg_source *p = pg(s);
    if (p->in_snapshot && commit)
        pgconn_exec(p->c, "COMMIT");
    else if (p->in_snapshot)
        /* Quiet: closing ends the transaction anyway, and the source may have closed it already. */
        PQclear(pgconn_query_quiet(p->c, "ROLLBACK", 0, NULL));
    p->in_snapshot = false;
    pgconn_close(p->c);
    p->c = NULL;
}

static bool pg_record_sequences(source *s, const char *snapshot, const strlist *schemas,
                                const char *phase)
{
    int n = 0;
    if (!snapshot) {
        pgconn *c = control(s);
        return c && sequences_record(c, schemas, s->eng->cat, phase, &n);
    }
    pgconn *c = pgconn_connect(s->conf, NULL);
    if (!c)
        return false;
    char *lit = pg_quote_literal(snapshot);
    char *set = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
    bool ok = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ") && pgconn_exec(c, set) &&
              sequences_record(c, schemas, s->eng->cat, phase, &n);
    pgconn_exec(c, "COMMIT");
    free(set);
    free(lit);
    pgconn_close(c);
    return ok;
}

static bool pg_export_rows(source *s, const char *snapshot, src_table *const *tables, size_t n,
                           int parallel, bool bars, source_rows_failure *why)
{
    return snapshot_export_tables(s->eng, s->conf, snapshot, tables, n, parallel, bars, why);
}

static engine_status pg_feed_begin(source *s, const source_feed_spec *spec, char **snapshot,
                                   bool *redo_all)
{
    pg_source *p = pg(s);
    /* The change capture code takes SQL-ready names: "schema"."table". */
    char **qualified = xcalloc(spec->ntables + 1, sizeof *qualified);
    for (size_t i = 0; i < spec->ntables; i++)
        qualified[i] = pg_quote_qualified(spec->tables[i]->schema, spec->tables[i]->name);
    cdc_export_spec cs = {
        .source = s->conf,
        .schemas = spec->schemas,
        .tables = (const char *const *)qualified,
        .ntables = spec->ntables,
        .start_clean = spec->start_clean,
        .progress_bars = spec->progress_bars,
        .command_name = spec->command_name,
    };
    engine_status st = cdc_export_begin(s->eng, &cs, &p->feed, snapshot, redo_all);
    for (size_t i = 0; i < spec->ntables; i++)
        free(qualified[i]);
    free(qualified);
    return st;
}

static bool pg_feed_snapshot_done(source *s)
{
    return cdc_export_snapshot_done(s->eng);
}

static engine_status pg_feed_stream(source *s)
{
    pg_source *p = pg(s);
    cdc_export_state *feed = p->feed;
    p->feed = NULL;
    return cdc_export_stream(s->eng, feed);
}

static void pg_feed_abort(source *s)
{
    pg_source *p = pg(s);
    cdc_export_abort(p->feed);
    p->feed = NULL;
}

static bool pg_drop_feed(source *s)
{
    pgconn *c = control(s);
    return c && cdc_export_drop_feed(s->eng, c);
}

static bool pg_dump_schema(source *s, const strlist *schemas, const strlist *extensions,
                           const char *out_path, const char *err_path)
{
    pgconn *c = control(s);
    if (!c)
        return false;
    char *pg_dump = pgdump_find(c->server_version_num / 10000);
    bool ok = pgdump_schema(pg_dump, s->conf, schemas, extensions, out_path, err_path);
    free(pg_dump);
    return ok;
}

static void pg_close(source *s)
{
    pg_source *p = s->impl;
    if (!p)
        return;
    pg_snapshot_end(s, false);
    cdc_export_abort(p->feed);
    free(p);
    s->impl = NULL;
}

const source_ops source_pg_ops = {
    .type = "postgresql",
    .connect = pg_connect,
    .resolve_schemas = pg_resolve_schemas,
    .list_tables = pg_list_tables,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .record_sequences = pg_record_sequences,
    .export_rows = pg_export_rows,
    .feed_begin = pg_feed_begin,
    .feed_snapshot_done = pg_feed_snapshot_done,
    .feed_stream = pg_feed_stream,
    .feed_abort = pg_feed_abort,
    .drop_feed = pg_drop_feed,
    .dump_schema = pg_dump_schema,
    .close = pg_close,
};
