#include "catalog/compare_state.h"
#include "catalog/catalog_int.h"

bool compare_state_migrated_tables(catalog *m, strlist *schemas, strlist *names)
{
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT schema_name, table_name FROM snapshot_export_table "
                               "ORDER BY schema_name, table_name",
                           -1, &st, NULL) != SQLITE_OK) {
        catalog_log_error(m, NULL);
        sqlite3_finalize(st);
        return false;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        strlist_push(schemas, (const char *)sqlite3_column_text(st, 0));
        strlist_push(names, (const char *)sqlite3_column_text(st, 1));
    }
    bool ok = rc == SQLITE_DONE;
    if (!ok)
        catalog_log_error(m, NULL);
    sqlite3_finalize(st);
    return ok;
}
