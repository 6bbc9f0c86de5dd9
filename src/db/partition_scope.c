#include "db/partition_scope.h"

#include "core/log.h"

#include <stdlib.h>

/*
 * Every partition edge whose two ends differ in being selected. Comparing
 * each partition with its direct parent finds every cut, at any level, with
 * pg_inherits alone (pg_partition_root() is missing from PostgreSQL 11, the
 * base of older YugabyteDB releases). Partitioned indexes are partitions too:
 * only tables count here.
 */
static const char CUT_SQL[] =
    "SELECT cn.nspname, c.relname, pn.nspname, p.relname, cn.nspname = ANY ($1::text[])"
    " FROM pg_catalog.pg_inherits i"
    " JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid"
    " JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace"
    " JOIN pg_catalog.pg_class p ON p.oid = i.inhparent"
    " JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"
    " WHERE c.relispartition AND c.relkind IN ('r', 'p', 'f')"
    "   AND (cn.nspname = ANY ($1::text[])) <> (pn.nspname = ANY ($1::text[]))"
    " ORDER BY 1, 2";

/* At most this many cuts are named; the count says how many there are. */
enum { NAMED_CUTS = 5 };

bool partition_scope_check(pgconn *c, const strlist *schemas)
{
    char *list = pg_text_array_literal(schemas);
    const char *p[1] = {list};
    PGresult *r = pgconn_query(c, CUT_SQL, 1, p);
    free(list);
    if (!r)
        return false;
    int n = PQntuples(r);
    if (n == 0) {
        PQclear(r);
        return true;
    }
    strbuf cuts = STRBUF_INIT;
    strlist add = STRLIST_INIT;
    for (int i = 0; i < n; i++) {
        bool child_selected = PQgetvalue(r, i, 4)[0] == 't';
        const char *missing = child_selected ? PQgetvalue(r, i, 2) : PQgetvalue(r, i, 0);
        if (!strlist_contains(&add, missing))
            strlist_push(&add, missing);
        if (i >= NAMED_CUTS)
            continue;
        char *child = pg_quote_qualified_min(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        char *parent = pg_quote_qualified_min(PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
        strbuf_appendf(&cuts, "%s%s of %s (%s)", i ? "; " : "", child, parent,
                       child_selected ? "the parent's schema is not exported: the partition's rows would be lost"
                                      : "the partition's schema is not exported: its rows would be read "
                                        "through the parent, with no partition to hold them on the target");
        free(child);
        free(parent);
    }
    strbuf schemas_to_add = STRBUF_INIT;
    for (size_t i = 0; i < add.count; i++) {
        char *q = pg_quote_ident_min(add.items[i]);
        strbuf_appendf(&schemas_to_add, "%s%s", i ? "," : "", q);
        free(q);
    }
    char *hint = xasprintf("add %s to --source-db-schema: a partition tree is migrated whole",
                           strbuf_cstr(&schemas_to_add));
    log_report(LOG_ERROR, NULL, hint, "source database: %d partition(s) cross the schemas selected: %s%s", n,
               strbuf_cstr(&cuts), n > NAMED_CUTS ? "; ..." : "");
    free(hint);
    strbuf_free(&schemas_to_add);
    strbuf_free(&cuts);
    strlist_free(&add);
    PQclear(r);
    return false;
}
