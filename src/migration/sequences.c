#include "migration/sequences.h"

#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "cdc/cdc_tables.h"
#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool sequences_record(pgconn *c, const strlist *schemas, catalog *m, const char *phase, int *count)
{
    *count = 0;
    char *arr = pg_text_array_literal(schemas);
    const char *p[1] = {arr};
    PGresult *r = pgconn_query(c,
                               "SELECT n.nspname, c.relname FROM pg_class c"
                               " JOIN pg_namespace n ON n.oid = c.relnamespace"
                               " WHERE c.relkind = 'S' AND n.nspname = ANY ($1::text[]) ORDER BY 1, 2",
                               1, p);
    free(arr);
    if (!r)
        return false;
    int n = PQntuples(r);
    long long *values = xcalloc((size_t)n + 1, sizeof *values);
    bool *called = xcalloc((size_t)n + 1, sizeof *called);
    bool ok = true;
    /*
     * Each sequence read itself, not through pg_sequences: that view says NULL
     * for a sequence the user may not read, which would be restored as never used.
     */
    for (int i = 0; ok && i < n; i++) {
        char *q = pg_quote_qualified(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        char *sql = xasprintf("SELECT last_value, is_called FROM %s", q);
        PGresult *v = pgconn_query(c, sql, 0, NULL);
        ok = v && PQntuples(v) == 1;
        if (ok) {
            values[i] = strtoll(PQgetvalue(v, 0, 0), NULL, 10);
            called[i] = PQgetvalue(v, 0, 1)[0] == 't';
        }
        PQclear(v);
        free(sql);
        free(q);
    }
    ok = ok && catalog_begin(m);
    if (ok) {
        for (int i = 0; ok && i < n; i++)
            ok = catalog_run(m, NULL,
                            "INSERT OR REPLACE INTO sequence_last_values(phase, schema_name, "
                            "sequence_name, last_value, is_called) VALUES (?1, ?2, ?3, ?4, ?5)",
                            "sssii", phase, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), values[i],
                            (long long)called[i]);
        if (ok)
            ok = catalog_commit(m);
        else
            catalog_rollback(m);
    }
    if (ok)
        *count = n;
    PQclear(r);
    free(values);
    free(called);
    return ok;
}

bool sequences_restore(catalog *m, pgconn *c, const char *phase, int *restored)
{
    *restored = 0;
    sqlite3 *db = catalog_sqlite(m);
    long long have_table = 0;
    if (!catalog_run(m, &have_table,
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                    "AND name = 'sequence_last_values'",
                    ""))
        return false;
    if (!have_table)
        return true; /* no exporter recorded any sequence */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT schema_name, sequence_name, last_value, is_called "
                           "FROM sequence_last_values WHERE phase = ?1 "
                           "ORDER BY schema_name, sequence_name",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): cannot read the sequence values: %s",
                  sqlite3_errmsg(db));
        return false;
    }
    sqlite3_bind_text(st, 1, phase, -1, SQLITE_STATIC);
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        const char *schema = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (!schema || !name || sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue;
        char *q = pg_quote_qualified(schema, name);
        char *value = xasprintf("%lld", (long long)sqlite3_column_int64(st, 2));
        const char *p[3] = {q, value, sqlite3_column_int(st, 3) ? "true" : "false"};
        int exists = pgconn_relation_exists(c, q);
        if (exists == 1) {
            char *r = pgconn_query_value(c, "SELECT setval($1::regclass, $2::bigint, $3::boolean)",
                                         3, p);
            ok = r != NULL;
            free(r);
            (*restored)++;
        } else if (exists == 0) {
            log_warn("sequence %s does not exist on the %s database: not restored", q,
                     db_role_name(c->role));
        } else {
            ok = false;
        }
        free(value);
        free(q);
    }
    sqlite3_finalize(st);
    return ok;
}
