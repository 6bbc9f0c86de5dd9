#include "snapshot/data_descriptor.h"

#include "catalog/catalog_int.h" /* transitional (issue 14): SQL moves into src/catalog/ */
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool data_descriptor_write(catalog *m, const char *export_dir)
{
    sqlite3 *db = catalog_sqlite(m);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT f.schema_name, f.table_name, f.part, f.file_path, f.row_count,"
                           " f.file_size, f.columns FROM snapshot_export_file f"
                           " JOIN snapshot_export_table t USING (schema_name, table_name)"
                           " WHERE t.status = 'DONE' ORDER BY 1, 2, 3",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("metadata store (meta.db): %s", sqlite3_errmsg(db));
        return false;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "FileFormat", "text");
    cJSON_AddStringToObject(root, "Delimiter", "\t");
    cJSON_AddBoolToObject(root, "HasHeader", false);
    cJSON_AddStringToObject(root, "NullString", "\\N");
    cJSON *list = cJSON_AddArrayToObject(root, "DataFileList");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "FilePath", (const char *)sqlite3_column_text(st, 3));
        cJSON_AddStringToObject(f, "SchemaName", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(f, "TableName", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddNumberToObject(f, "Part", sqlite3_column_int(st, 2));
        cJSON_AddNumberToObject(f, "RowCount", (double)sqlite3_column_int64(st, 4));
        cJSON_AddNumberToObject(f, "FileSize", (double)sqlite3_column_int64(st, 5));
        cJSON *cols = cJSON_Parse((const char *)sqlite3_column_text(st, 6));
        cJSON_AddItemToObject(f, "Columns", cols ? cols : cJSON_CreateArray());
        cJSON_AddItemToArray(list, f);
    }
    sqlite3_finalize(st);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    char *path = xasprintf("%s/%s", export_dir, DATA_DESCRIPTOR_PATH);
    bool ok = fs_write_atomic(path, txt, strlen(txt));
    if (!ok)
        log_error("cannot write %s: %s", path, strerror(errno));
    free(path);
    free(txt);
    return ok;
}
