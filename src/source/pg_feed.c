/*
 * The change feed of a PostgreSQL database (source.h feed_*), its server-side
 * part: a logical replication slot (pgoutput) and the publication it reads
 * through, named after the migration, their prerequisites, their creation
 * (with the exported snapshot the rows are read in), and their drop. The
 * stream itself is pg_stream.c.
 */
#include "source/pg_int.h"

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/util.h"
#include "db/connect.h"
#include "db/feed_names.h"
#include "db/replication/replstream.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_feed_init(source *s, const source_feed_spec *spec, const char **name, const char **detail)
{
    pg_source *p = pg_of(s);
    pg_feed_free(p);
    p->feed_named = true;
    p->side = spec->side;
    for (size_t i = 0; spec->tables && i < spec->tables->count; i++) {
        strlist_push(&p->feed_schemas, spec->schemas->items[i]);
        strlist_push(&p->feed_tables, spec->tables->items[i]);
    }
    /* end migration finds them by the uuid's hex digits in their names */
    bool target = spec->side == SOURCE_FEED_OF_TARGET;
    p->slot = feed_slot_name(catalog_migration_uuid(s->eng->cat), target);
    p->publication = feed_publication_name(catalog_migration_uuid(s->eng->cat), target);
    if (name)
        *name = p->slot;
    if (detail)
        *detail = p->publication;
}

void pg_feed_free(pg_source *p)
{
    cJSON_Delete(p->layout_cache);
    p->layout_cache = NULL;
    pgconn_close(p->snapshot_holder);
    p->snapshot_holder = NULL;
    strlist_free(&p->feed_schemas);
    strlist_free(&p->feed_tables);
    free(p->slot);
    free(p->publication);
    p->slot = p->publication = NULL;
    p->feed_named = false;
}

engine_status pg_feed_find(source *s, bool *exists)
{
    pg_source *p = pg_of(s);
    pgconn *c = pg_control(s);
    if (!c)
        return db_role_failure(s->conf->role);
    const char *prm[] = {p->slot};
    PGresult *r = pgconn_query(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", 1, prm);
    if (!r)
        return db_role_failure(s->conf->role);
    *exists = PQntuples(r) > 0;
    PQclear(r);
    return ENGINE_OK;
}

engine_status pg_feed_confirmed(source *s, src_position *out)
{
    pg_source *p = pg_of(s);
    pgconn *c = pg_control(s);
    if (!c)
        return db_role_failure(s->conf->role);
    const char *prm[] = {p->slot};
    char *v = pgconn_query_value(
        c, "SELECT coalesce(confirmed_flush_lsn, '0/0') FROM pg_replication_slots WHERE slot_name = $1", 1, prm);
    uint64_t lsn = 0;
    bool ok = v && lsn_parse(v, &lsn);
    free(v);
    if (!ok) {
        log_error("%s database: cannot read the position of replication slot %s", db_role_name(s->conf->role),
                  p->slot);
        return db_role_failure(s->conf->role);
    }
    *out = lsn;
    return ENGINE_OK;
}

/* "s"."t", "s2"."t2" of the feed's tables (caller frees). */
static char *quoted_tables(const pg_source *p)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < p->feed_tables.count; i++) {
        char *q = pg_quote_qualified(p->feed_schemas.items[i], p->feed_tables.items[i]);
        strbuf_appendf(&sb, "%s%s", i ? ", " : "", q);
        free(q);
    }
    return strbuf_detach(&sb);
}

/*
 * Tables of the feed, and their partitions, for which the SQL condition cond
 * (a constant of this file, on pg_class c) holds, as "schema"."table" (into out).
 */
static bool feed_relations_where(pgconn *c, const pg_source *p, const char *cond, strlist *out)
{
    char *sch = pg_text_array_literal(&p->feed_schemas), *tab = pg_text_array_literal(&p->feed_tables);
    const char *prm[] = {sch, tab};
    char *sql = xasprintf("WITH sel AS (SELECT c.oid FROM unnest($1::text[], $2::text[]) AS x(s, t) "
                          " JOIN pg_namespace ns ON ns.nspname = x.s "
                          " JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = x.t), "
                          "rels AS (SELECT oid AS relid FROM sel UNION "
                          " SELECT t.relid FROM sel, LATERAL pg_partition_tree(sel.oid) t) "
                          "SELECT format('%%I.%%I', n.nspname, c.relname) FROM rels "
                          "JOIN pg_class c ON c.oid = rels.relid "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE %s ORDER BY 1",
                          cond);
    PGresult *r = pgconn_query(c, sql, 2, prm);
    free(sql);
    free(sch), free(tab);
    if (!r)
        return false;
    for (int i = 0; i < PQntuples(r); i++)
        strlist_push(out, PQgetvalue(r, i, 0));
    PQclear(r);
    return true;
}

/* Tables of the feed without REPLICA IDENTITY FULL (partitions too: theirs decodes their changes). */
static bool without_full_identity(pgconn *c, const pg_source *p, strlist *out)
{
    return feed_relations_where(c, p, "c.relkind = 'r' AND c.relreplident <> 'f'", out);
}

/*
 * Prerequisites of change capture, each failure reported on its own line with
 * the fix: wal_level, replication permission, a free replication slot (when
 * need_slot), REPLICA IDENTITY FULL on every captured table (when check_identity).
 */
static bool check_prereqs(pgconn *c, const pg_source *p, bool need_slot, bool check_identity)
{
    const char *who = db_role_name(c->role);
    bool ok = true;
    char *wal = pgconn_query_value(c, "SELECT current_setting('wal_level')", 0, NULL);
    if (!wal)
        return false;
    if (strcmp(wal, "logical") != 0) {
        log_report(LOG_ERROR, NULL,
                   "run ALTER SYSTEM SET wal_level = logical; and restart the server",
                   "%s database: wal_level is '%s' but change capture needs 'logical'", who, wal);
        ok = false;
    }
    free(wal);

    char *perm = pgconn_query_value(c,
                                    "SELECT rolreplication OR rolsuper FROM pg_roles "
                                    "WHERE rolname = current_user",
                                    0, NULL);
    char *user = pgconn_query_value(c, "SELECT current_user", 0, NULL);
    if (perm && strcmp(perm, "t") != 0) {
        char *q = pg_quote_ident(user ? user : "");
        char *hint = xasprintf("run ALTER ROLE %s WITH REPLICATION; as a superuser", q);
        log_report(LOG_ERROR, NULL, hint, "%s database: user %s may not use replication", who,
                   user ? user : "?");
        free(hint);
        free(q);
        ok = false;
    }
    free(perm), free(user);

    if (need_slot) {
        char *free_slots = pgconn_query_value(
            c,
            "SELECT current_setting('max_replication_slots')::int - "
            "(SELECT count(*) FROM pg_replication_slots)",
            0, NULL);
        if (free_slots && atoi(free_slots) <= 0) {
            log_report(LOG_ERROR, NULL,
                       "drop an unused slot with SELECT pg_drop_replication_slot('name'), or "
                       "raise max_replication_slots and restart the server",
                       "%s database: no free replication slot (max_replication_slots is used up)",
                       who);
            ok = false;
        }
        free(free_slots);
    }

    /*
     * An UNLOGGED table's changes are not in the WAL: no publication takes it.
     * The source's tables only (the target's are made by import schema).
     */
    strlist unlogged = STRLIST_INIT;
    if (!check_identity) {
        /* nothing to check */
    } else if (!feed_relations_where(c, p, "c.relpersistence = 'u'", &unlogged)) {
        ok = false;
    } else if (unlogged.count) {
        strbuf list = STRBUF_INIT, fix = STRBUF_INIT;
        for (size_t i = 0; i < unlogged.count; i++) {
            strbuf_appendf(&list, "%s%s", i ? ", " : "", unlogged.items[i]);
            strbuf_appendf(&fix, "%sALTER TABLE %s SET LOGGED;", i ? " " : "", unlogged.items[i]);
        }
        char *hint = xasprintf("run: %s or leave them out (--exclude-table-list, with --start-clean "
                               "once a run recorded them)",
                               strbuf_cstr(&fix));
        log_report(LOG_ERROR, "their changes are not written to the WAL, which change capture reads",
                   hint, "%s database: %zu UNLOGGED table(s): %s", who, unlogged.count,
                   strbuf_cstr(&list));
        free(hint);
        strbuf_free(&list), strbuf_free(&fix);
        ok = false;
    }
    strlist_free(&unlogged);

    if (check_identity) {
        strlist bad = STRLIST_INIT;
        if (!without_full_identity(c, p, &bad)) {
            ok = false;
        } else if (bad.count) {
            strbuf list = STRBUF_INIT, fix = STRBUF_INIT;
            for (size_t i = 0; i < bad.count; i++) {
                strbuf_appendf(&list, "%s%s", i ? ", " : "", bad.items[i]);
                strbuf_appendf(&fix, "%sALTER TABLE %s REPLICA IDENTITY FULL;", i ? " " : "",
                               bad.items[i]);
            }
            char *hint = xasprintf("run: %s", strbuf_cstr(&fix));
            log_report(LOG_ERROR, NULL, hint, "%s database: %zu table(s) without REPLICA IDENTITY "
                       "FULL: %s", who, bad.count, strbuf_cstr(&list));
            free(hint);
            strbuf_free(&list), strbuf_free(&fix);
            ok = false;
        }
        strlist_free(&bad);
    }
    return ok;
}

/* Our own tables on the target get REPLICA IDENTITY FULL, so before images are complete. */
static bool set_full_identity(pgconn *c, const pg_source *p)
{
    strlist bad = STRLIST_INIT;
    bool ok = without_full_identity(c, p, &bad);
    for (size_t i = 0; ok && i < bad.count; i++) {
        char *sql = xasprintf("ALTER TABLE %s REPLICA IDENTITY FULL", bad.items[i]);
        ok = pgconn_exec(c, sql);
        if (ok)
            log_info("target database: set REPLICA IDENTITY FULL on %s", bad.items[i]);
        free(sql);
    }
    strlist_free(&bad);
    return ok;
}

/*
 * pgoutput sends the partitioned table's TRUNCATE but none of a single
 * partition's (publish_via_partition_root): say so once, when the publication
 * is made, naming the tables, since such a TRUNCATE would leave the target's
 * rows in place without a word.
 */
static void warn_partition_truncate(pgconn *c, const pg_source *p)
{
    const char *prm[] = {p->publication};
    char *names = pgconn_query_value(
        c,
        "SELECT string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', ' ORDER BY "
        "n.nspname, c.relname) FROM pg_publication_rel pr JOIN pg_publication pub ON pub.oid = "
        "pr.prpubid JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE pub.pubname = $1 AND c.relkind = 'p'",
        1, prm);
    if (names && *names)
        log_report(LOG_WARN,
                   "PostgreSQL sends a TRUNCATE of the partitioned table, not one of a single "
                   "partition",
                   "while the migration is live, empty a partition with DELETE, or truncate the "
                   "partitioned table itself",
                   "%s database: a TRUNCATE of one partition of %s is not captured",
                   db_role_name(c->role), names);
    free(names);
}

/* Create the publication when missing; when update, make it cover exactly the tables. */
static bool ensure_publication(pgconn *c, const pg_source *p, bool update)
{
    const char *prm[] = {p->publication};
    PGresult *r = pgconn_query(c, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, prm);
    if (!r)
        return false;
    bool exists = PQntuples(r) > 0;
    PQclear(r);
    if (exists && !update)
        return true;
    char *q = pg_quote_ident(p->publication);
    char *list = quoted_tables(p);
    size_t n = p->feed_tables.count;
    char *sql;
    if (exists)
        sql = n ? xasprintf("ALTER PUBLICATION %s SET TABLE %s", q, list) : NULL;
    else
        /* Changes of partitions carry the partitioned table's name, as the snapshot does. */
        sql = n ? xasprintf("CREATE PUBLICATION %s FOR TABLE %s%s", q, list,
                            c->server_version_num >= 130000
                                ? " WITH (publish_via_partition_root = true)"
                                : "")
                : xasprintf("CREATE PUBLICATION %s", q);
    bool ok = !sql || pgconn_exec(c, sql);
    if (ok && !exists) {
        log_info("%s database: created publication %s for %zu table(s)", db_role_name(c->role),
                 p->publication, n);
        warn_partition_truncate(c, p);
    }
    free(sql), free(list), free(q);
    return ok;
}

engine_status pg_feed_prepare(source *s, bool new_feed, bool update)
{
    pg_source *p = pg_of(s);
    pgconn *c = pg_control(s);
    bool target = p->side == SOURCE_FEED_OF_TARGET;
    /*
     * The source's tables must already have full row images (the user's
     * tables: we only say how); the target's are ours, so we set them.
     */
    bool ok = c && check_prereqs(c, p, new_feed, !target) && (!target || set_full_identity(c, p)) &&
              ensure_publication(c, p, update);
    return ok ? ENGINE_OK : db_role_failure(s->conf->role);
}

/*
 * A logical slot is made only once every transaction that holds an xid when
 * it starts has ended, in the whole cluster, prepared ones included: an
 * orphaned two-phase transaction (a crashed transaction manager's) makes
 * CREATE_REPLICATION_SLOT wait for ever, without a word. Name what it waits
 * for first. Best effort: a failed look changes nothing.
 */
static void warn_open_transactions(pgconn *c, const char *who)
{
    if (!c)
        return;
    PGresult *r = pgconn_query(c,
                               "SELECT 'prepared transaction ' || quote_literal(gid) || ' (database ' || "
                               "database || ', prepared ' || to_char(prepared, 'YYYY-MM-DD HH24:MI:SS') || "
                               "')' FROM pg_prepared_xacts UNION ALL "
                               "SELECT 'transaction of pid ' || pid || ' (database ' || coalesce(datname, '?') || "
                               "', open ' || date_trunc('second', now() - xact_start) || ')' "
                               "FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() "
                               "AND xact_start < now() - interval '10 seconds'",
                               0, NULL);
    for (int i = 0; r && i < PQntuples(r); i++)
        log_report(LOG_WARN, "a replication slot is made once every transaction open when it starts has ended",
                   "end it (COMMIT PREPARED or ROLLBACK PREPARED for a prepared one), or wait",
                   "%s database: %s is open: creating the replication slot waits for it", who,
                   PQgetvalue(r, i, 0));
    PQclear(r);
}

engine_status pg_feed_create(source *s, bool with_snapshot, char **snapshot, src_position *start)
{
    pg_source *p = pg_of(s);
    const char *who = db_role_name(s->conf->role);
    if (snapshot)
        *snapshot = NULL;
    *start = 0;
    pgconn_options ro = {.replication = "database",
                         .application_name = with_snapshot ? "yb-voyager-cdc-snapshot" : "yb-voyager-cdc"};
    warn_open_transactions(pg_control(s), who);
    pgconn *r = pgconn_connect(s->conf, &ro);
    char *snap = NULL;
    uint64_t lsn = 0;
    if (!r || !repl_create_slot(r, p->slot, with_snapshot, &snap, &lsn)) {
        pgconn_close(r);
        return db_role_failure(s->conf->role);
    }
    char a[24];
    if (!pg_layouts_record(s, with_snapshot ? snap : NULL)) {
        log_error("%s database: cannot keep the columns of the captured tables in the export dir",
                  who);
        free(snap);
        pgconn_close(r);
        return db_role_failure(s->conf->role);
    }
    if (!with_snapshot) {
        free(snap);
        pgconn_close(r);
        log_info("%s database: created replication slot %s at %s", who, p->slot, lsn_format(lsn, a));
        *start = lsn;
        return ENGINE_OK;
    }
    if (!snap) {
        log_error("%s database: the replication slot %s came without an exported snapshot", who,
                  p->slot);
        pgconn_close(r);
        return db_role_failure(s->conf->role);
    }
    log_info("%s database: created replication slot %s at %s with snapshot %s", who, p->slot,
             lsn_format(lsn, a), snap);
    /* The exported snapshot lives as long as this connection, which must run nothing else. */
    pgconn_close(p->snapshot_holder);
    p->snapshot_holder = r;
    *snapshot = snap;
    *start = lsn;
    return ENGINE_OK;
}

void pg_feed_release_snapshot(source *s)
{
    pg_source *p = pg_of(s);
    pgconn_close(p->snapshot_holder);
    p->snapshot_holder = NULL;
}

/* One attempt at the drop on c; *slot_gone once the slot is (a retry may find it gone). */
static bool drop_objects(pgconn *c, const pg_source *p, bool whole, bool *slot_gone)
{
    bool slot_dropped = false;
    if (!repl_drop_slot(c, p->slot, false, &slot_dropped))
        return false;
    *slot_gone = true;
    if (!whole)
        return true;
    if (slot_dropped)
        log_info("dropped replication slot %s", p->slot);
    char *q = pg_quote_ident(p->publication);
    char *sql = xasprintf("DROP PUBLICATION IF EXISTS %s", q);
    bool ok = pgconn_exec(c, sql);
    if (ok)
        log_info("dropped publication %s", p->publication);
    free(sql), free(q);
    return ok;
}

bool pg_feed_drop(source *s, bool whole)
{
    pg_source *p = pg_of(s);
    const char *who = db_role_name(s->conf->role);
    /* Our own walsender would hold the slot: the stream goes first, its query connection stays. */
    pgconn *c = pg_stream_query_conn(s);
    if (!c)
        c = pg_control(s);
    bool ok = false, slot_gone = false;
    if (c) {
        /*
         * A slot left behind keeps WAL on the server for ever: a connection
         * that breaks during the drop is worth the retry policy's patience
         * (on a new connection), as any other statement of ours is.
         */
        retry_policy pol = retry_policy_default();
        retry_state rs;
        retry_init(&rs, &pol);
        bool retries = c->retries;
        c->retries = true;
        for (;;) {
            /* A reset refused: this attempt failed already, for the reason PQerrorMessage has. */
            bool up = PQstatus(c->pg) == CONNECTION_OK;
            if (up && (ok = drop_objects(c, p, whole, &slot_gone)))
                break;
            /* 55006: a walsender that has not noticed its connection died yet still holds the slot. */
            bool transient = !up || PQstatus(c->pg) != CONNECTION_OK || c->last_error_retryable ||
                             strcmp(c->sqlstate, "55006") == 0;
            if (!transient || !retry_failed(&rs))
                break;
            char why[256];
            snprintf(why, sizeof why, "%s", up ? "" : PQerrorMessage(c->pg));
            why[strcspn(why, "\n")] = '\0';
            log_warn("%s database: dropping replication slot %s failed%s%s%s; trying again (attempt "
                     "%d, giving up after %lld s)",
                     who, p->slot, *why ? " (" : "", why, *why ? ")" : "", rs.attempt,
                     (long long)(rs.policy.deadline_ms / 1000));
            if (!retry_backoff(&rs, s->eng->interrupted))
                break;
            if (PQstatus(c->pg) != CONNECTION_OK)
                PQreset(c->pg);
        }
        c->retries = retries;
    }
    if (ok || !whole)
        return ok;
    /* The end of the stream: nobody else would ever drop them. */
    if (slot_gone) {
        char *hint = xasprintf("run the same command again, or 'yb-voyager end migration', or on "
                               "the %s database: DROP PUBLICATION IF EXISTS \"%s\";",
                               who, p->publication);
        log_report(LOG_WARN, NULL, hint, "%s database: publication %s could not be dropped", who,
                   p->publication);
        free(hint);
        return false;
    }
    char *detail = xasprintf("it retains WAL on the %s database until it is dropped: the disk "
                             "fills",
                             who);
    char *hint = xasprintf("run the same command again to retry the drop, or 'yb-voyager end "
                           "migration', or on the %s database: SELECT "
                           "pg_drop_replication_slot('%s'); DROP PUBLICATION IF EXISTS \"%s\";",
                           who, p->slot, p->publication);
    log_report(LOG_WARN, detail, hint, "%s database: replication slot %s could not be dropped", who,
               p->slot);
    free(detail), free(hint);
    return false;
}
