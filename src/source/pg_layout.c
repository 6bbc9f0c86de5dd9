/*
 * The captured tables' columns (name, type OID, typmod, in order) as the
 * change feed started, kept in meta.db's status record, and compared with
 * every relation pgoutput announces (docs/DECISIONS.md "Change capture
 * (exporters)", DDL while streaming). pgoutput decodes each change with the
 * catalog as of that change and announces a relation again after a DDL, so a
 * type, typmod or column list that differs from the one kept is a DDL the
 * target did not get: the importer would cast 1.2345 into numeric(10,2) or
 * leave a dropped column NULL without a word. The stream stops instead.
 *
 * Kept per slot (the source's and the target's feeds share meta.db):
 *   PgFeedLayouts        {slot: {"schema.table": [[name, oid, typmod], ...]}}
 *   PgFeedLayoutsPending {slot: {"schema.table": [...]}}: the columns a stop
 *                        reported; announced again on the next run, they are
 *                        taken as the table's columns (the operator ran export
 *                        data again after applying the change on every side).
 */
#include "source/pg_int.h"

#include "catalog/catalog.h"
#include "core/engine.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define LAYOUTS_KEY "PgFeedLayouts"
#define PENDING_KEY "PgFeedLayoutsPending"
/* The same for a partitioned table's partitions: {slot: {"schema.table": ["schema.part", ...]}}. */
#define PARTS_KEY "PgFeedPartitions"
#define PARTS_PENDING_KEY "PgFeedPartitionsPending"

/*
 * A partitioned table's partitions now, as a JSON array of "schema.name"
 * (empty for a plain table), read on c (caller frees; NULL after a failure).
 */
static cJSON *partitions_now(pgconn *c, const char *schema, const char *table)
{
    /*
     * pg_partition_tree is PostgreSQL 12's (YugabyteDB's YSQL, a feed of the
     * target, is 11): before it, no partitions are kept nor compared.
     */
    if (c->server_version_num < 120000)
        return cJSON_CreateArray();
    const char *prm[] = {schema, table};
    char *v = pgconn_query_value(
        c,
        "SELECT coalesce(json_agg(name ORDER BY name), '[]') FROM ("
        "SELECT pn.nspname || '.' || pc.relname AS name "
        "FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace, "
        "LATERAL pg_partition_tree(t.oid) pt "
        "JOIN pg_class pc ON pc.oid = pt.relid JOIN pg_namespace pn ON pn.oid = pc.relnamespace "
        "WHERE n.nspname = $1 AND t.relname = $2 AND pt.level > 0) s",
        2, prm);
    cJSON *a = v ? cJSON_Parse(v) : NULL;
    free(v);
    if (a && !cJSON_IsArray(a)) {
        cJSON_Delete(a);
        a = NULL;
    }
    return a;
}

static cJSON *column_json(const char *name, long oid, long typmod)
{
    cJSON *c = cJSON_CreateArray();
    cJSON_AddItemToArray(c, cJSON_CreateString(name));
    cJSON_AddItemToArray(c, cJSON_CreateNumber((double)oid));
    cJSON_AddItemToArray(c, cJSON_CreateNumber((double)typmod));
    return c;
}

static cJSON *relation_json(const pgo_relation *rel)
{
    cJSON *cols = cJSON_CreateArray();
    for (uint16_t i = 0; i < rel->natts; i++)
        cJSON_AddItemToArray(cols, column_json(rel->columns[i].name, (long)rel->columns[i].type_oid,
                                               rel->columns[i].typmod));
    return cols;
}

/* rec[key][slot], made when missing. */
static cJSON *slot_object(cJSON *rec, const char *key, const char *slot)
{
    cJSON *all = cJSON_GetObjectItemCaseSensitive(rec, key);
    if (!cJSON_IsObject(all)) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, key);
        all = cJSON_AddObjectToObject(rec, key);
    }
    cJSON *o = cJSON_GetObjectItemCaseSensitive(all, slot);
    if (!cJSON_IsObject(o)) {
        cJSON_DeleteItemFromObjectCaseSensitive(all, slot);
        o = cJSON_AddObjectToObject(all, slot);
    }
    return o;
}

typedef struct layout_edit {
    const char *slot;
    cJSON *whole;      /* replace the slot's layouts with this (feed creation), or NULL */
    cJSON *whole_parts; /* and its partitions with this */
    const char *key, *pending_key; /* else: LAYOUTS_KEY/PENDING_KEY or the PARTS_ ones */
    const char *table; /* set key[table] (or pending_key[table] when pending) */
    const cJSON *cols;
    bool pending;
} layout_edit;

static bool apply_edit(cJSON *rec, void *arg)
{
    layout_edit *e = arg;
    if (e->whole) {
        /* A new feed (--start-clean, a new slot): what an earlier one kept no longer applies. */
        const char *keys[] = {LAYOUTS_KEY, PENDING_KEY, PARTS_KEY, PARTS_PENDING_KEY};
        cJSON *vals[] = {e->whole, NULL, e->whole_parts, NULL};
        for (int k = 0; k < 4; k++) {
            slot_object(rec, keys[k], e->slot);
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, keys[k]), e->slot,
                                                   vals[k] ? cJSON_Duplicate(vals[k], true) : cJSON_CreateObject());
        }
        return true;
    }
    cJSON *pend = slot_object(rec, e->pending_key, e->slot);
    cJSON_DeleteItemFromObjectCaseSensitive(pend, e->table);
    cJSON *o = e->pending ? pend : slot_object(rec, e->key, e->slot);
    cJSON_DeleteItemFromObjectCaseSensitive(o, e->table);
    cJSON_AddItemToObject(o, e->table, cJSON_Duplicate(e->cols, true));
    return true;
}

bool pg_layouts_record(source *s, const char *snapshot)
{
    pg_source *p = pg_of(s);
    pgconn_options o = {.application_name = "yb-voyager-cdc"};
    pgconn *c = pgconn_connect(s->conf, &o);
    if (!c)
        return false;
    /*
     * In the slot's exported snapshot when there is one: exactly the columns
     * the snapshot's rows have and the slot's first changes are decoded with.
     * Without one (a feed of changes only) the catalog just after the slot
     * was made: a DDL racing the creation is the one window left.
     */
    bool ok = pgconn_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    if (ok && snapshot) {
        /* The id comes from the server (CREATE_REPLICATION_SLOT), quoted still: no parameter here. */
        char *lit = pg_quote_literal(snapshot);
        char *sql = xasprintf("SET TRANSACTION SNAPSHOT %s", lit);
        ok = pgconn_exec(c, sql);
        free(sql), free(lit);
    }
    cJSON *whole = cJSON_CreateObject();
    cJSON *whole_parts = cJSON_CreateObject();
    for (size_t i = 0; ok && i < p->feed_tables.count; i++) {
        const char *prm[] = {p->feed_schemas.items[i], p->feed_tables.items[i]};
        /*
         * pgoutput leaves out generated columns, so they are left out here
         * too (attgenerated is PostgreSQL 12's; YugabyteDB's YSQL is 11).
         */
        char *sql = xasprintf("SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a "
                              "JOIN pg_class t ON t.oid = a.attrelid "
                              "JOIN pg_namespace n ON n.oid = t.relnamespace "
                              "WHERE n.nspname = $1 AND t.relname = $2 AND a.attnum > 0 "
                              "AND NOT a.attisdropped %s ORDER BY a.attnum",
                              c->server_version_num >= 120000 ? "AND a.attgenerated = ''" : "");
        PGresult *r = pgconn_query(c, sql, 2, prm);
        free(sql);
        if (!r) {
            ok = false;
            break;
        }
        cJSON *cols = cJSON_CreateArray();
        for (int k = 0; k < PQntuples(r); k++)
            cJSON_AddItemToArray(cols, column_json(PQgetvalue(r, k, 0), atol(PQgetvalue(r, k, 1)),
                                                   atol(PQgetvalue(r, k, 2))));
        PQclear(r);
        char *name = xasprintf("%s.%s", p->feed_schemas.items[i], p->feed_tables.items[i]);
        cJSON_AddItemToObject(whole, name, cols);
        /* The snapshot read exactly these partitions' rows: one attached later was never read. */
        cJSON *parts = partitions_now(c, p->feed_schemas.items[i], p->feed_tables.items[i]);
        if (parts)
            cJSON_AddItemToObject(whole_parts, name, parts);
        else
            ok = false;
        free(name);
    }
    pgconn_close(c);
    layout_edit e = {.slot = p->slot, .whole = whole, .whole_parts = whole_parts};
    ok = ok && catalog_status_update(s->eng->cat, apply_edit, &e);
    cJSON_Delete(whole);
    cJSON_Delete(whole_parts);
    return ok;
}

/* A column's type as SQL writes it ("numeric(12,4)"), from the query connection (caller frees). */
static char *type_name(pgconn *q, const cJSON *col)
{
    char oid[24], mod[24];
    snprintf(oid, sizeof oid, "%.0f", cJSON_GetArrayItem(col, 1)->valuedouble);
    snprintf(mod, sizeof mod, "%.0f", cJSON_GetArrayItem(col, 2)->valuedouble);
    const char *prm[] = {oid, mod};
    char *t = q ? pgconn_query_value(q, "SELECT format_type($1::oid, $2::int)", 2, prm) : NULL;
    return t ? t : xasprintf("type %s typmod %s", oid, mod);
}

static const cJSON *column_named(const cJSON *cols, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    if (str_eq(cJSON_GetArrayItem(c, 0)->valuestring, name))
        return c;
    return NULL;
}

/* What differs between was and now: "column amt numeric(10,2) -> numeric(12,4), ..." (caller frees). */
static char *describe_change(pgconn *q, const cJSON *was, const cJSON *now)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    const cJSON *c;
    cJSON_ArrayForEach(c, was)
    {
        const char *name = cJSON_GetArrayItem(c, 0)->valuestring;
        const cJSON *n = column_named(now, name);
        char *t = type_name(q, c);
        if (!n) {
            strbuf_appendf(&sb, "%scolumn %s %s dropped", sb.len ? ", " : "", name, t);
        } else if (!cJSON_Compare(c, n, true)) {
            char *nt = type_name(q, n);
            strbuf_appendf(&sb, "%scolumn %s %s -> %s", sb.len ? ", " : "", name, t, nt);
            free(nt);
        }
        free(t);
    }
    cJSON_ArrayForEach(c, now)
    {
        const char *name = cJSON_GetArrayItem(c, 0)->valuestring;
        if (column_named(was, name))
            continue;
        char *t = type_name(q, c);
        strbuf_appendf(&sb, "%scolumn %s %s added", sb.len ? ", " : "", name, t);
        free(t);
    }
    if (!sb.len)
        strbuf_append(&sb, "the columns' order changed");
    return strbuf_detach(&sb);
}

static bool well_formed(const cJSON *cols)
{
    const cJSON *c;
    if (!cJSON_IsArray(cols))
        return false;
    cJSON_ArrayForEach(c, cols)
    if (cJSON_GetArraySize(c) != 3 || !cJSON_IsString(cJSON_GetArrayItem(c, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(c, 1)) || !cJSON_IsNumber(cJSON_GetArrayItem(c, 2)))
        return false;
    return true;
}

/* The partitions in a but not in b: "x.p1, x.p2" (caller frees; "" when none). */
static char *parts_minus(const cJSON *a, const cJSON *b)
{
    strbuf sb = STRBUF_INIT;
    strbuf_append(&sb, "");
    const cJSON *x, *y;
    cJSON_ArrayForEach(x, a)
    {
        bool found = false;
        cJSON_ArrayForEach(y, b)
        found = found || (cJSON_IsString(x) && cJSON_IsString(y) && str_eq(x->valuestring, y->valuestring));
        if (!found && cJSON_IsString(x))
            strbuf_appendf(&sb, "%s%s", sb.len ? ", " : "", x->valuestring);
    }
    return strbuf_detach(&sb);
}

/*
 * One piece kept for table (its columns, or its partitions) compared with
 * now: ENGINE_OK (the same; or nothing kept yet, now kept; or the pending
 * piece a stop reported, now taken), ENGINE_BAD_STATE (logged, now pending),
 * ENGINE_FAILED (meta.db).
 */
static int check_piece(source *s, pgconn *q, const char *key, const char *pending_key, const char *table,
                       const cJSON *now, bool parts)
{
    pg_source *p = pg_of(s);
    catalog *cat = s->eng->cat;
    const char *who = db_role_name(s->conf->role);
    cJSON *rec = catalog_status_load(cat);
    const cJSON *kept = rec ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, key), p->slot) : NULL;
    const cJSON *pend = rec ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, pending_key), p->slot) : NULL;
    const cJSON *was = cJSON_GetObjectItemCaseSensitive(kept, table);
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(pend, table);
    layout_edit e = {.slot = p->slot, .key = key, .pending_key = pending_key, .table = table, .cols = now};
    int rc = ENGINE_OK;
    char *what = NULL;
    if (!(parts ? cJSON_IsArray(was) : well_formed(was))) {
        /*
         * A feed made before these were kept (or a table the publication got
         * later): its first announcement is the reference from now on.
         */
        if (!catalog_status_update(cat, apply_edit, &e))
            rc = ENGINE_FAILED;
        goto out;
    }
    if (cJSON_Compare(was, now, true))
        goto out;
    if (parts) {
        char *added = parts_minus(now, was), *gone = parts_minus(was, now);
        what = xasprintf("%s%s%s%s%s", *added ? "attached: " : "", added, *added && *gone ? "; " : "",
                         *gone ? "detached: " : "", gone);
        free(added), free(gone);
    } else {
        what = describe_change(q, was, now);
    }
    if (pending && cJSON_Compare(pending, now, true)) {
        /* The stop reported exactly this, and the operator ran export data again. */
        if (catalog_status_update(cat, apply_edit, &e))
            log_warn("%s database: table %s: taking its new %s (%s), reported when export data "
                     "stopped, as applied to the other databases: export data was run again",
                     who, table, parts ? "partitions" : "columns", what);
        else
            rc = ENGINE_FAILED;
        goto out;
    }
    e.pending = true;
    catalog_status_update(cat, apply_edit, &e);
    rc = ENGINE_BAD_STATE;
    if (!parts)
        log_error("%s database: table %s changed while export data streamed (%s): no change from "
                  "then on was exported; apply the same change to the target (and, for a way back, "
                  "to the other databases), then run export data again, which takes the new columns",
                  who, table, what);
    else
        /*
         * An attached partition's rows from before the attach are in no
         * snapshot and no change; a detached one's rows stay in the target's
         * table (no delete is decoded for them).
         */
        log_error("%s database: the partitions of %s changed while export data streamed (%s): no "
                  "change from then on was exported;%s%s make the target's %s hold the same rows "
                  "and partitions (and, for a way back, the other databases), or start the "
                  "migration again with --start-clean; then run export data again, which takes "
                  "the new partitions",
                  who, table, what,
                  strstr(what, "attached: ") ? " the rows of an attached partition from before the "
                                               "attach were never exported;" : "",
                  strstr(what, "detached: ") ? " a detached partition's rows are still in the "
                                               "target's table;" : "",
                  table);
out:
    free(what);
    cJSON_Delete(rec);
    return rc;
}

int pg_layout_check(source *s, pgconn *q, const pgo_relation *rel, bool *query_failed)
{
    char *table = xasprintf("%s.%s", rel->nspname, rel->relname);
    cJSON *now = relation_json(rel);
    int rc = check_piece(s, q, LAYOUTS_KEY, PENDING_KEY, table, now, false);
    if (rc == ENGINE_OK && q) {
        /*
         * The partitions as the catalog has them now (pgoutput announces the
         * root only, with publish_via_partition_root; ATTACH and DETACH
         * invalidate the root, which is announced again before its next change).
         */
        cJSON *parts = partitions_now(q, rel->nspname, rel->relname);
        if (parts)
            rc = check_piece(s, q, PARTS_KEY, PARTS_PENDING_KEY, table, parts, true);
        else
            *query_failed = true;
        cJSON_Delete(parts);
    }
    cJSON_Delete(now);
    free(table);
    return rc;
}
