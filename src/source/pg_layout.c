/*
 * The captured tables (their OIDs, and columns: name, type OID, typmod, in
 * order) as the change feed started, kept in meta.db's status record, and
 * compared with every relation pgoutput announces (docs/DECISIONS.md "Change capture
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
 *   PgFeedRelids         {slot: {"schema.table": oid}}: a table dropped and
 *                        created again under its name leaves the publication
 *                        (nothing of the new one is decoded, and pgoutput says
 *                        nothing), a renamed one is announced under its new
 *                        name: both are caught by OID (pg_layout_check_members).
 * A table's key is its minimally quoted name (pg_quote_qualified_min): a."b.c"
 * and "a.b".c are two tables, and a.b.c unquoted would be both.
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
#define RELIDS_KEY "PgFeedRelids"

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
        "SELECT format('%I.%I', pn.nspname, pc.relname) AS name "
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
    cJSON *whole_relids; /* and its OIDs with this */
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
        const char *keys[] = {LAYOUTS_KEY, PENDING_KEY, PARTS_KEY, PARTS_PENDING_KEY, RELIDS_KEY};
        cJSON *vals[] = {e->whole, NULL, e->whole_parts, NULL, e->whole_relids};
        for (int k = 0; k < 5; k++) {
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

/*
 * This slot's kept pieces as a record of their own ({key: {slot: ...}}),
 * loaded from meta.db on first use (owned by the source; NULL after a failed
 * read). Only this slot's exporter edits them.
 */
static const cJSON *kept_record(source *s)
{
    pg_source *p = pg_of(s);
    if (p->layout_cache)
        return p->layout_cache;
    cJSON *rec = catalog_status_load(s->eng->cat);
    if (!rec)
        return NULL;
    cJSON *c = cJSON_CreateObject();
    const char *keys[] = {LAYOUTS_KEY, PENDING_KEY, PARTS_KEY, PARTS_PENDING_KEY, RELIDS_KEY};
    for (int k = 0; k < 5; k++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, keys[k]), p->slot);
        if (o)
            cJSON_AddItemToObject(cJSON_AddObjectToObject(c, keys[k]), p->slot, cJSON_Duplicate(o, true));
    }
    cJSON_Delete(rec);
    p->layout_cache = c;
    return c;
}

/* catalog_status_update with fn, and the same edit on the loaded pieces. */
static bool kept_update(source *s, catalog_status_fn fn, void *arg)
{
    if (!catalog_status_update(s->eng->cat, fn, arg))
        return false;
    if (pg_of(s)->layout_cache)
        fn(pg_of(s)->layout_cache, arg);
    return true;
}

/* rec[key][slot] of the loaded pieces, or NULL. */
static const cJSON *kept_piece(source *s, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(kept_record(s), key), pg_of(s)->slot);
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
    cJSON *whole_relids = cJSON_CreateObject();
    for (size_t i = 0; ok && i < p->feed_tables.count; i++) {
        const char *prm[] = {p->feed_schemas.items[i], p->feed_tables.items[i]};
        PGresult *rr = pgconn_query(c,
                                    "SELECT t.oid FROM pg_class t JOIN pg_namespace n "
                                    "ON n.oid = t.relnamespace WHERE n.nspname = $1 AND t.relname = $2",
                                    2, prm);
        if (rr && PQntuples(rr) != 1)
            log_error("%s database: table %s.%s was dropped while export data started: run export data "
                      "again", db_role_name(s->conf->role), prm[0], prm[1]);
        double relid = rr && PQntuples(rr) == 1 ? strtod(PQgetvalue(rr, 0, 0), NULL) : 0;
        PQclear(rr);
        if (relid == 0) {
            ok = false;
            break;
        }
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
        char *name = pg_quote_qualified_min(p->feed_schemas.items[i], p->feed_tables.items[i]);
        cJSON_AddItemToObject(whole, name, cols);
        cJSON_AddNumberToObject(whole_relids, name, relid);
        /* The snapshot read exactly these partitions' rows: one attached later was never read. */
        cJSON *parts = partitions_now(c, p->feed_schemas.items[i], p->feed_tables.items[i]);
        if (parts)
            cJSON_AddItemToObject(whole_parts, name, parts);
        else
            ok = false;
        free(name);
    }
    pgconn_close(c);
    layout_edit e = {.slot = p->slot, .whole = whole, .whole_parts = whole_parts, .whole_relids = whole_relids};
    ok = ok && kept_update(s, apply_edit, &e);
    cJSON_Delete(whole);
    cJSON_Delete(whole_parts);
    cJSON_Delete(whole_relids);
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
    const char *who = db_role_name(s->conf->role);
    /* Into the loaded pieces: used only before they are edited below. */
    const cJSON *was = cJSON_GetObjectItemCaseSensitive(kept_piece(s, key), table);
    const cJSON *pending = cJSON_GetObjectItemCaseSensitive(kept_piece(s, pending_key), table);
    layout_edit e = {.slot = p->slot, .key = key, .pending_key = pending_key, .table = table, .cols = now};
    int rc = ENGINE_OK;
    char *what = NULL;
    if (!(parts ? cJSON_IsArray(was) : well_formed(was))) {
        /*
         * A feed made before these were kept (or a table the publication got
         * later): its first announcement is the reference from now on.
         */
        if (!kept_update(s, apply_edit, &e))
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
        if (kept_update(s, apply_edit, &e))
            log_warn("%s database: table %s: taking its new %s (%s), reported when export data "
                     "stopped, as applied to the other databases: export data was run again",
                     who, table, parts ? "partitions" : "columns", what);
        else
            rc = ENGINE_FAILED;
        goto out;
    }
    e.pending = true;
    kept_update(s, apply_edit, &e);
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
    return rc;
}

/* The OID kept for "schema.table" in relids, 0 when none. */
static uint32_t kept_relid(const cJSON *relids, const char *table)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(relids, table);
    return cJSON_IsNumber(o) ? (uint32_t)o->valuedouble : 0;
}

static const char RESTART_HINT[] =
    "a live migration takes no DROP, RENAME or re-CREATE of its tables: start the migration "
    "again with --start-clean (export data and import data)";

/*
 * A relation announced under a kept table's name with another OID (dropped,
 * created again and put back in the publication by hand), or with a kept OID
 * under another name (renamed): ENGINE_BAD_STATE (logged), before any row of it.
 */
static int check_relid(source *s, const pgo_relation *rel, const char *table)
{
    pg_source *p = pg_of(s);
    const cJSON *relids = kept_piece(s, RELIDS_KEY);
    const char *who = db_role_name(s->conf->role);
    int rc = ENGINE_OK;
    uint32_t kept = kept_relid(relids, table);
    const cJSON *o;
    if (kept && kept != rel->relid) {
        log_report(LOG_ERROR, NULL, RESTART_HINT,
                   "%s database: table %s was dropped and created again while export data "
                   "streamed: the changes of the new table made before it was added to publication "
                   "%s again were not exported",
                   who, table, p->publication);
        rc = ENGINE_BAD_STATE;
    } else if (!kept) {
        cJSON_ArrayForEach(o, relids)
        if (cJSON_IsNumber(o) && (uint32_t)o->valuedouble == rel->relid) {
            log_report(LOG_ERROR, NULL, RESTART_HINT,
                       "%s database: table %s was renamed to %s while export data streamed: its "
                       "changes from then on name a table the other databases do not have",
                       who, o->string, table);
            rc = ENGINE_BAD_STATE;
            break;
        }
    }
    return rc;
}

int pg_layout_check(source *s, pgconn *q, const pgo_relation *rel, bool *query_failed)
{
    char *table = pg_quote_qualified_min(rel->nspname, rel->relname);
    int rc = check_relid(s, rel, table);
    cJSON *now = relation_json(rel);
    if (rc == ENGINE_OK)
        rc = check_piece(s, q, LAYOUTS_KEY, PENDING_KEY, table, now, false);
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

/* record_relids' edit: relids[slot][table] = oid for each of adds' members. */
static bool record_relids(cJSON *rec, void *arg)
{
    const layout_edit *e = arg;
    cJSON *o = slot_object(rec, RELIDS_KEY, e->slot);
    const cJSON *x;
    cJSON_ArrayForEach(x, e->cols)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(o, x->string);
        cJSON_AddNumberToObject(o, x->string, x->valuedouble);
    }
    return true;
}

/*
 * What became of the table kept as relid, no longer in publication pub: "was
 * dropped", ... (caller frees; NULL with *query_failed).
 */
static char *fate_of(pgconn *q, uint32_t relid, const char *schema, const char *table, const char *pub,
                     bool *query_failed)
{
    char oid[16];
    snprintf(oid, sizeof oid, "%u", relid);
    const char *prm[] = {oid, schema, table};
    PGresult *r = pgconn_query_quiet(q,
                                     "SELECT EXISTS (SELECT FROM pg_class WHERE oid = $1::oid), "
                                     "EXISTS (SELECT FROM pg_class c JOIN pg_namespace n "
                                     "ON n.oid = c.relnamespace WHERE n.nspname = $2 AND c.relname = $3)",
                                     3, prm);
    char *fate = NULL;
    if (r && PQntuples(r) == 1)
        fate = strcmp(PQgetvalue(r, 0, 0), "t") == 0
                   ? xasprintf("was removed from publication %s", pub)
               : strcmp(PQgetvalue(r, 0, 1), "t") == 0
                   ? xasprintf("was dropped and created again (the new table is not in publication %s)", pub)
                   : xstrdup("was dropped");
    else
        *query_failed = true;
    PQclear(r);
    return fate;
}

int pg_layout_check_members(source *s, pgconn *q, bool *query_failed)
{
    pg_source *p = pg_of(s);
    const char *who = db_role_name(s->conf->role);
    const char *prm[] = {p->publication};
    PGresult *r = pgconn_query_quiet(q,
                                     "SELECT n.nspname, c.relname, c.oid FROM pg_publication_rel pr "
                                     "JOIN pg_publication pb ON pb.oid = pr.prpubid "
                                     "JOIN pg_class c ON c.oid = pr.prrelid "
                                     "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE pb.pubname = $1",
                                     1, prm);
    if (!r) {
        *query_failed = true;
        return ENGINE_OK;
    }
    const cJSON *relids = kept_piece(s, RELIDS_KEY);
    cJSON *adds = cJSON_CreateObject(); /* the reference of a feed made before OIDs were kept */
    int rc = ENGINE_OK;
    for (size_t i = 0; i < p->feed_tables.count && !*query_failed; i++) {
        const char *schema = p->feed_schemas.items[i], *tname = p->feed_tables.items[i];
        char *table = pg_quote_qualified_min(schema, tname);
        uint32_t kept = kept_relid(relids, table);
        int by_oid = -1, by_name = -1;
        for (int k = 0; k < PQntuples(r); k++) {
            uint32_t oid = (uint32_t)strtoul(PQgetvalue(r, k, 2), NULL, 10);
            if (kept && oid == kept)
                by_oid = k;
            if (str_eq(PQgetvalue(r, k, 0), schema) && str_eq(PQgetvalue(r, k, 1), tname))
                by_name = k;
        }
        char *fate = NULL;
        if (!kept && by_name >= 0)
            cJSON_AddNumberToObject(adds, table, strtod(PQgetvalue(r, by_name, 2), NULL));
        else if (!kept)
            fate = xasprintf("is not in publication %s (dropped, renamed or removed from it)", p->publication);
        else if (by_oid >= 0 && by_oid != by_name)
            fate = xasprintf("was renamed to %s.%s", PQgetvalue(r, by_oid, 0), PQgetvalue(r, by_oid, 1));
        else if (by_oid < 0 && by_name >= 0)
            fate = xasprintf("was dropped and created again (and put back in publication %s by hand)",
                             p->publication);
        else if (by_oid < 0)
            fate = fate_of(q, kept, schema, tname, p->publication, query_failed);
        if (fate) {
            /* Nothing of it is decoded from then on, and pgoutput sends no word of it. */
            log_report(LOG_ERROR, NULL, RESTART_HINT,
                       "%s database: table %s %s while export data streamed: its changes from then "
                       "on are not captured",
                       who, table, fate);
            rc = ENGINE_BAD_STATE;
        }
        free(fate);
        free(table);
    }
    PQclear(r);
    if (rc == ENGINE_OK && !*query_failed && cJSON_GetArraySize(adds) > 0) {
        layout_edit e = {.slot = p->slot, .cols = adds};
        if (!kept_update(s, record_relids, &e))
            rc = ENGINE_FAILED;
    }
    cJSON_Delete(adds);
    return rc;
}
