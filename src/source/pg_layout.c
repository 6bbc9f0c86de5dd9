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
    const char *table; /* else: set layouts[table] (or pending[table] when pending) */
    const cJSON *cols;
    bool pending;
} layout_edit;

static bool apply_edit(cJSON *rec, void *arg)
{
    layout_edit *e = arg;
    if (e->whole) {
        /* A new feed (--start-clean, a new slot): what an earlier one kept no longer applies. */
        slot_object(rec, LAYOUTS_KEY, e->slot);
        slot_object(rec, PENDING_KEY, e->slot);
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, LAYOUTS_KEY),
                                               e->slot, cJSON_Duplicate(e->whole, true));
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, PENDING_KEY),
                                               e->slot, cJSON_CreateObject());
        return true;
    }
    cJSON *pend = slot_object(rec, PENDING_KEY, e->slot);
    cJSON_DeleteItemFromObjectCaseSensitive(pend, e->table);
    cJSON *o = e->pending ? pend : slot_object(rec, LAYOUTS_KEY, e->slot);
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
    for (size_t i = 0; ok && i < p->feed_tables.count; i++) {
        const char *prm[] = {p->feed_schemas.items[i], p->feed_tables.items[i]};
        /* pgoutput leaves out generated columns (PostgreSQL 15), so they are left out here too. */
        PGresult *r = pgconn_query(c,
                                   "SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a "
                                   "JOIN pg_class t ON t.oid = a.attrelid "
                                   "JOIN pg_namespace n ON n.oid = t.relnamespace "
                                   "WHERE n.nspname = $1 AND t.relname = $2 AND a.attnum > 0 "
                                   "AND NOT a.attisdropped AND a.attgenerated = '' "
                                   "ORDER BY a.attnum",
                                   2, prm);
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
        free(name);
    }
    pgconn_close(c);
    layout_edit e = {.slot = p->slot, .whole = whole};
    ok = ok && catalog_status_update(s->eng->cat, apply_edit, &e);
    cJSON_Delete(whole);
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

int pg_layout_check(source *s, pgconn *q, const pgo_relation *rel)
{
    pg_source *p = pg_of(s);
    catalog *cat = s->eng->cat;
    char *table = xasprintf("%s.%s", rel->nspname, rel->relname);
    cJSON *now = relation_json(rel);
    cJSON *rec = catalog_status_load(cat);
    const cJSON *lay = rec ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, LAYOUTS_KEY), p->slot) : NULL;
    const cJSON *pend = rec ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, PENDING_KEY), p->slot) : NULL;
    const cJSON *was = cJSON_GetObjectItemCaseSensitive(lay, table);
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(pend, table);
    int rc = ENGINE_OK;
    if (!well_formed(was)) {
        /*
         * A feed made before the layouts were kept (or a table the publication
         * got later): its first announcement is the reference from now on.
         */
        layout_edit e = {.slot = p->slot, .table = table, .cols = now};
        if (!catalog_status_update(cat, apply_edit, &e))
            rc = ENGINE_FAILED;
    } else if (cJSON_Compare(was, now, true)) {
        /* unchanged */
    } else if (pending && cJSON_Compare(pending, now, true)) {
        /* The stop reported exactly these columns, and the operator ran export data again. */
        char *what = describe_change(q, was, now);
        layout_edit e = {.slot = p->slot, .table = table, .cols = now};
        if (catalog_status_update(cat, apply_edit, &e))
            log_warn("%s database: table %s: taking its new columns (%s), reported when export data "
                     "stopped, as applied to the other databases: export data was run again",
                     db_role_name(s->conf->role), table, what);
        else
            rc = ENGINE_FAILED;
        free(what);
    } else {
        char *what = describe_change(q, was, now);
        layout_edit e = {.slot = p->slot, .table = table, .cols = now, .pending = true};
        catalog_status_update(cat, apply_edit, &e);
        log_error("%s database: table %s changed while export data streamed (%s): no change from "
                  "then on was exported; apply the same change to the target (and, for a way back, "
                  "to the other databases), then run export data again, which takes the new columns",
                  db_role_name(s->conf->role), table, what);
        free(what);
        rc = ENGINE_BAD_STATE;
    }
    cJSON_Delete(rec);
    cJSON_Delete(now);
    free(table);
    return rc;
}
