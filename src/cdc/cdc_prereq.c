#include "cdc/cdc_prereq.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

bool cdc_tables_without_full_identity(pgconn *c, const cdc_tables *t, strlist *out)
{
    char *s = pg_text_array_literal(&t->schemas), *n = pg_text_array_literal(&t->tables);
    const char *p[] = {s, n};
    /* Partitions too: their changes are decoded with their own replica identity. */
    PGresult *r = pgconn_query(c,
                               "WITH sel AS (SELECT c.oid FROM unnest($1::text[], $2::text[]) AS x(s, t) "
                               " JOIN pg_namespace ns ON ns.nspname = x.s "
                               " JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = x.t), "
                               "rels AS (SELECT oid AS relid FROM sel UNION "
                               " SELECT t.relid FROM sel, LATERAL pg_partition_tree(sel.oid) t) "
                               "SELECT format('%I.%I', n.nspname, c.relname) FROM rels "
                               "JOIN pg_class c ON c.oid = rels.relid "
                               "JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE c.relkind = 'r' AND c.relreplident <> 'f' ORDER BY 1",
                               2, p);
    free(s), free(n);
    if (!r)
        return false;
    for (int i = 0; i < PQntuples(r); i++)
        strlist_push(out, PQgetvalue(r, i, 0));
    PQclear(r);
    return true;
}

bool cdc_check_prereqs(pgconn *c, const cdc_tables *t, bool need_slot, bool check_identity)
{
    const char *who = db_role_name(c->role);
    bool ok = true;
    char *wal = pgconn_query_value(c, "SELECT current_setting('wal_level')", 0, NULL);
    if (!wal)
        return false;
    if (strcmp(wal, "logical") != 0) {
        log_error("%s database: wal_level is '%s' but change capture needs 'logical': run "
                  "ALTER SYSTEM SET wal_level = logical; and restart the server",
                  who, wal);
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
        log_error("%s database: user %s may not use replication: run ALTER ROLE %s WITH "
                  "REPLICATION; as a superuser",
                  who, user ? user : "?", q);
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
            log_error("%s database: no free replication slot (max_replication_slots is used up): "
                      "drop an unused slot with SELECT pg_drop_replication_slot('name'), or raise "
                      "max_replication_slots and restart the server",
                      who);
            ok = false;
        }
        free(free_slots);
    }

    if (check_identity) {
        strlist bad = STRLIST_INIT;
        if (!cdc_tables_without_full_identity(c, t, &bad)) {
            ok = false;
        } else if (bad.count) {
            strbuf list = STRBUF_INIT, fix = STRBUF_INIT;
            for (size_t i = 0; i < bad.count; i++) {
                strbuf_appendf(&list, "%s%s", i ? ", " : "", bad.items[i]);
                strbuf_appendf(&fix, "%sALTER TABLE %s REPLICA IDENTITY FULL;", i ? " " : "",
                               bad.items[i]);
            }
            log_error("%s database: %zu table(s) without REPLICA IDENTITY FULL: %s; run: %s", who,
                      bad.count, strbuf_cstr(&list), strbuf_cstr(&fix));
            strbuf_free(&list), strbuf_free(&fix);
            ok = false;
        }
        strlist_free(&bad);
    }
    return ok;
}
