#include "source/pg_writer_int.h"

#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool import_metainfo_create(pgconn *c)
{
    /* Checked first so that a restart does not print the server's "already exists" notices. */
    if (pgconn_relation_exists(c, "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3") == 1)
        return true;
    /* Concurrent importers (target, source-replica) never share a database, so IF NOT EXISTS suffices. */
    return pgconn_exec(c, "CREATE SCHEMA IF NOT EXISTS ybvoyager_metadata") &&
           pgconn_exec(c, "CREATE TABLE IF NOT EXISTS "
                          "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 ("
                          " migration_uuid uuid NOT NULL,"
                          " data_file_name text NOT NULL,"
                          " batch_number integer NOT NULL,"
                          " schema_name text NOT NULL,"
                          " table_name text NOT NULL,"
                          " rows_imported bigint,"
                          " PRIMARY KEY (migration_uuid, data_file_name, batch_number, schema_name,"
                          " table_name))");
}

bool import_metainfo_load(pgconn *c, const char *migration_uuid, import_metainfo_set *out)
{
    memset(out, 0, sizeof *out);
    const char *p[1] = {migration_uuid};
    PGresult *r = pgconn_query(c,
                               "SELECT data_file_name, batch_number, coalesce(rows_imported, 0) FROM "
                               "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3 "
                               "WHERE migration_uuid = $1",
                               1, p);
    if (!r)
        return false;
    int n = PQntuples(r);
    out->items = xcalloc((size_t)n + 1, sizeof *out->items);
    for (int i = 0; i < n; i++) {
        out->items[i].file_name = xstrdup(PQgetvalue(r, i, 0));
        out->items[i].batch_number = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        out->items[i].rows = strtoll(PQgetvalue(r, i, 2), NULL, 10);
    }
    out->count = (size_t)n;
    PQclear(r);
    import_metainfo_set_sort(out);
    return true;
}

/* sql on a batch's row: $1 uuid, $2 file, $3 batch number, $4 schema, $5 table, $6 rows. */
static PGresult *batch_row_exec(pgconn *c, const char *sql, const char *migration_uuid,
                                const char *file_name, int64_t batch, const char *schema,
                                const char *table, int64_t rows)
{
    char b[32], n[32];
    snprintf(b, sizeof b, "%lld", (long long)batch);
    snprintf(n, sizeof n, "%lld", (long long)rows);
    const char *p[6] = {migration_uuid, file_name, b, schema, table, n};
    return PQexecParams(c->pg, sql, 6, NULL, p, NULL, NULL, 0);
}

PGresult *import_metainfo_insert(pgconn *c, const char *migration_uuid, const char *file_name,
                                 int64_t batch, const char *schema, const char *table, int64_t rows)
{
    return batch_row_exec(c,
                          "INSERT INTO ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"
                          " (migration_uuid, data_file_name, batch_number, schema_name, table_name,"
                          " rows_imported) VALUES ($1, $2, $3, $4, $5, $6)",
                          migration_uuid, file_name, batch, schema, table, rows);
}

PGresult *import_metainfo_set_rows(pgconn *c, const char *migration_uuid, const char *file_name,
                                   int64_t batch, const char *schema, const char *table, int64_t rows)
{
    return batch_row_exec(c,
                          "UPDATE ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"
                          " SET rows_imported = $6 WHERE migration_uuid = $1 AND data_file_name = $2"
                          " AND batch_number = $3 AND schema_name = $4 AND table_name = $5",
                          migration_uuid, file_name, batch, schema, table, rows);
}

bool import_metainfo_delete_table(pgconn *c, const char *migration_uuid, const char *schema,
                                  const char *table)
{
    const char *p[3] = {migration_uuid, schema, table};
    return pgconn_exec_params(c,
                              "DELETE FROM ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"
                              " WHERE migration_uuid = $1 AND schema_name = $2 AND table_name = $3",
                              3, p);
}

bool import_metainfo_undo_table(pgconn *c, const char *migration_uuid, const char *schema,
                                const char *table, int64_t *rows_removed)
{
    *rows_removed = 0;
    const char *p[3] = {migration_uuid, schema, table};
    if (!pgconn_exec(c, "BEGIN"))
        return false;
    char *v = pgconn_query_value(c,
                                 "SELECT count(*) || ' ' || coalesce(sum(rows_imported), 0) FROM "
                                 "ybvoyager_metadata.ybvoyager_import_data_batches_metainfo_v3"
                                 " WHERE migration_uuid = $1 AND schema_name = $2 AND table_name = $3",
                                 3, p);
    long long batches = 0, rows = 0;
    bool ok = v && sscanf(v, "%lld %lld", &batches, &rows) == 2;
    free(v);
    if (ok && batches > 0) {
        char *q = pg_quote_qualified(schema, table);
        ok = pgconn_empty_table(c, q) && import_metainfo_delete_table(c, migration_uuid, schema, table);
        free(q);
    }
    ok = ok && pgconn_exec(c, "COMMIT");
    if (!ok) {
        pgconn_rollback_after_failure(c);
        return false;
    }
    *rows_removed = rows;
    return true;
}
