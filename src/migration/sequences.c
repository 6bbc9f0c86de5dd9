#include "migration/sequences.h"

#include "core/log.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

bool sequences_store_init(metadb *m)
{
    return metadb_exec(m, "CREATE TABLE IF NOT EXISTS sequence_last_values ("
                          " phase TEXT NOT NULL, schema_name TEXT NOT NULL, sequence_name TEXT NOT NULL,"
                          " last_value INTEGER NOT NULL, is_called INTEGER NOT NULL,"
                          " PRIMARY KEY (phase, schema_name, sequence_name))");
}

bool sequences_restore(metadb *m, pgconn *c, const char *phase, int *restored)
{
    *restored = 0;
    sqlite3 *db = metadb_sqlite(m);
    long long have_table = 0;
    if (!metadb_run(m, &have_table,
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
