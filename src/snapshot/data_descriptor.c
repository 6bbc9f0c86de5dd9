#include "snapshot/data_descriptor.h"

#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool data_descriptor_write(metadb *m, const char *export_dir)
{
    sqlite3 *db = metadb_sqlite(m);
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

static char *str_item(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static int64_t num_item(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

bool data_descriptor_read(const char *export_dir, data_files *out, bool *missing)
{
    memset(out, 0, sizeof *out);
    *missing = false;
    char *path = xasprintf("%s/%s", export_dir, DATA_DESCRIPTOR_PATH);
    char *txt = NULL;
    size_t len = 0;
    if (!fs_exists(path)) {
        *missing = true;
        free(path);
        return true;
    }
    if (!fs_read_all(path, &txt, &len)) {
        log_error("cannot read %s: %s", path, strerror(errno));
        free(path);
        return false;
    }
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    const cJSON *list = root ? cJSON_GetObjectItemCaseSensitive(root, "DataFileList") : NULL;
    if (!cJSON_IsArray(list)) {
        log_error("%s is corrupt: export data again with --start-clean", path);
        cJSON_Delete(root);
        free(path);
        return false;
    }
    free(path);
    int n = cJSON_GetArraySize(list);
    out->items = xcalloc((size_t)n + 1, sizeof *out->items);
    const cJSON *f;
    cJSON_ArrayForEach(f, list)
    {
        data_file *d = &out->items[out->count];
        d->schema = str_item(f, "SchemaName");
        d->table = str_item(f, "TableName");
        d->path = str_item(f, "FilePath");
        if (!d->schema || !d->table || !d->path) {
            free(d->schema), free(d->table), free(d->path);
            continue;
        }
        d->part = (int)num_item(f, "Part");
        d->rows = num_item(f, "RowCount");
        d->size = num_item(f, "FileSize");
        const cJSON *cols = cJSON_GetObjectItemCaseSensitive(f, "Columns");
        d->columns_json = cols ? cJSON_PrintUnformatted(cols) : xstrdup("[]");
        out->count++;
    }
    cJSON_Delete(root);
    return true;
}

void data_files_free(data_files *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].schema);
        free(f->items[i].table);
        free(f->items[i].path);
        free(f->items[i].columns_json);
    }
    free(f->items);
    memset(f, 0, sizeof *f);
}
