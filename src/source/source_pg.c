/*
 * The PostgreSQL source (source/source.h): the ops table, the control
 * connection, the catalog queries (schemas, tables) and the snapshot of a
 * snapshot-only export. The rows, sequences and the change feed are the other
 * pg_*.c files (source/pg_int.h).
 */
#include "source/pg_int.h"

#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/partition_scope.h"
#include "db/replication/replstream.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

pg_source *pg_of(source *s)
{
    if (!s->impl)
        s->impl = xcalloc(1, sizeof(pg_source));
    return s->impl;
}

/* The schemas as a text[] literal: a schema name may hold a comma (caller frees). */
static char *schemas_array(const char *const *schemas)
{
    strlist l = STRLIST_INIT;
    for (size_t i = 0; schemas[i]; i++)
        strlist_push(&l, schemas[i]);
    char *a = pg_text_array_literal(&l);
    strlist_free(&l);
    return a;
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

/*
 * The partitions in the schemas, each with its tree's root (found up
 * pg_inherits: pg_partition_root() is missing from PostgreSQL 11).
 */
static bool pg_partitions_list(pgconn *c, const char *const *schemas, src_tables *out)
{
    char *list = schemas_array(schemas);
    const char *p[1] = {list};
    PGresult *r = pgconn_query(
        c,
        "WITH RECURSIVE up(part, anc) AS ("
        "  SELECT i.inhrelid, i.inhparent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        "   WHERE c.relispartition AND c.relkind IN ('r', 'p', 'f')"
        "  UNION ALL SELECT up.part, i.inhparent FROM up"
        "   JOIN pg_class a ON a.oid = up.anc AND a.relispartition"
        "   JOIN pg_inherits i ON i.inhrelid = up.anc)"
        " SELECT pn.nspname, pc.relname, rn.nspname, rc.relname FROM up"
        " JOIN pg_class rc ON rc.oid = up.anc AND NOT rc.relispartition"
        " JOIN pg_namespace rn ON rn.oid = rc.relnamespace"
        " JOIN pg_class pc ON pc.oid = up.part JOIN pg_namespace pn ON pn.oid = pc.relnamespace"
        " WHERE pn.nspname = ANY ($1::text[]) ORDER BY 1, 2",
        1, p);
    free(list);
    if (!r)
        return false;
    int n = PQntuples(r);
    out->parts = xcalloc((size_t)n + 1, sizeof *out->parts);
    for (int i = 0; i < n; i++)
        out->parts[i] = (src_partition){xstrdup(PQgetvalue(r, i, 0)), xstrdup(PQgetvalue(r, i, 1)),
                                        xstrdup(PQgetvalue(r, i, 2)), xstrdup(PQgetvalue(r, i, 3))};
    out->nparts = (size_t)n;
    PQclear(r);
    return true;
}

static bool pg_tables_list(pgconn *c, const char *const *schemas, src_tables *out)
{
    memset(out, 0, sizeof *out);
    char *list = schemas_array(schemas);
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
        "   AND n.nspname = ANY ($1::text[])"
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
    return pg_partitions_list(c, schemas, out);
}

/* c (NULL: the connect failed, logged) becomes the control connection. */
static engine_status adopt_control(source *s, pgconn *c)
{
    pg_source *p = pg_of(s);
    p->c = c;
    /* export data from the source starts its run again when this connection breaks (control_lost) */
    if (p->c && s->conf->role == DB_SOURCE)
        p->c->retries = true;
    return p->c ? ENGINE_OK : db_role_failure(s->conf->role);
}

static engine_status pg_connect(source *s, bool quiet, char **why)
{
    if (pg_of(s)->c)
        return ENGINE_OK;
    pgconn_options co = {.quiet = quiet, .why = why};
    return adopt_control(s, db_connect_recorded(s->eng->cat, s->conf, &co));
}

static engine_status pg_connect_waiting(source *s, retry_state *rs, bool *gave_up)
{
    *gave_up = false;
    if (pg_of(s)->c)
        return ENGINE_OK;
    return adopt_control(s, db_connect_recorded_retrying(s->eng->cat, s->conf, NULL, rs, s->eng->interrupted,
                                                         gave_up));
}

static bool pg_control_lost(source *s)
{
    pg_source *p = pg_of(s);
    return p->c && (PQstatus(p->c->pg) == CONNECTION_BAD || p->c->last_error_retryable);
}

pgconn *pg_control(source *s)
{
    pg_source *p = pg_of(s);
    if (!p->c)
        pg_connect(s, false, NULL);
    return p->c;
}

static bool pg_resolve_schemas(source *s, strlist *schemas)
{
    pgconn *c = pg_control(s);
    return c && pg_schemas_resolve(c, schemas);
}

static bool pg_list_tables(source *s, const char *const *schemas, src_tables *out)
{
    memset(out, 0, sizeof *out);
    pgconn *c = pg_control(s);
    return c && pg_tables_list(c, schemas, out);
}

static int pg_check_selection(source *s, const char *const *schemas)
{
    pgconn *c = pg_control(s);
    if (!c)
        return -1;
    strlist l = STRLIST_INIT;
    for (size_t i = 0; schemas && schemas[i]; i++)
        strlist_push(&l, schemas[i]);
    bool ok = partition_scope_check(c, &l);
    strlist_free(&l);
    return ok ? 1 : c->sqlstate[0] ? -1 : 0;
}

static char *pg_snapshot_begin(source *s)
{
    pg_source *p = pg_of(s);
    pgconn *c = pg_control(s);
    if (!c)
        return NULL;
    p->in_snapshot = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    return p->in_snapshot ? pgconn_query_value(c, "SELECT pg_export_snapshot()", 0, NULL) : NULL;
}

static void pg_snapshot_end(source *s, bool commit)
{
    pg_source *p = pg_of(s);
    if (p->in_snapshot && commit)
        pgconn_exec(p->c, "COMMIT");
    else if (p->in_snapshot)
        /* Quiet: closing ends the transaction anyway, and the source may have closed it already. */
        PQclear(pgconn_query_quiet(p->c, "ROLLBACK", 0, NULL));
    p->in_snapshot = false;
    pgconn_close(p->c);
    p->c = NULL;
}

static void pg_close(source *s)
{
    pg_source *p = s->impl;
    if (!p)
        return;
    pg_snapshot_end(s, false);
    pg_stream_free(p);
    pg_feed_free(p);
    free(p);
    s->impl = NULL;
}

static char *pg_format_position(src_position pos, char *buf) { return lsn_format(pos, buf); }

const source_ops source_pg_ops = {
    .type = "postgresql",
    .position_name = "LSN",
    .feed_noun = "replication slot",
    .format_position = pg_format_position,
    .connect = pg_connect,
    .connect_waiting = pg_connect_waiting,
    .resolve_schemas = pg_resolve_schemas,
    .list_tables = pg_list_tables,
    .check_selection = pg_check_selection,
    .control_lost = pg_control_lost,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .read_sequences = pg_read_sequences,
    .rows_parts = pg_rows_parts,
    .rows_open = pg_rows_open,
    .rows_read = pg_rows_read,
    .rows_close = pg_rows_close,
    .feed_init = pg_feed_init,
    .feed_find = pg_feed_find,
    .feed_confirmed = pg_feed_confirmed,
    .feed_prepare = pg_feed_prepare,
    .feed_create = pg_feed_create,
    .feed_release_snapshot = pg_feed_release_snapshot,
    .feed_drop = pg_feed_drop,
    .feed_connect = pg_feed_connect,
    .feed_silence_ms = pg_feed_silence_ms,
    .feed_poll = pg_feed_poll,
    .feed_confirm = pg_feed_confirm,
    .feed_drain_point = pg_feed_drain_point,
    .feed_read_sequences = pg_feed_read_sequences,
    .feed_disconnect = pg_feed_disconnect,
    .close = pg_close,
};
