#include "snapshot/data_descriptor.h"

#include "catalog/snapshot_state.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool data_descriptor_write(catalog *m, const char *export_dir)
{
    snapshot_file *files;
    size_t n;
    if (!snapshot_export_done_files(m, &files, &n))
        return false;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "FileFormat", "text");
    cJSON_AddStringToObject(root, "Delimiter", "\t");
    cJSON_AddBoolToObject(root, "HasHeader", false);
    cJSON_AddStringToObject(root, "NullString", "\\N");
    cJSON *list = cJSON_AddArrayToObject(root, "DataFileList");
    for (size_t i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "FilePath", files[i].path);
        cJSON_AddStringToObject(f, "SchemaName", files[i].schema);
        cJSON_AddStringToObject(f, "TableName", files[i].table);
        cJSON_AddNumberToObject(f, "Part", files[i].part);
        cJSON_AddNumberToObject(f, "RowCount", (double)files[i].rows);
        cJSON_AddNumberToObject(f, "FileSize", (double)files[i].size);
        cJSON *cols = files[i].columns_json ? cJSON_Parse(files[i].columns_json) : NULL;
        cJSON_AddItemToObject(f, "Columns", cols ? cols : cJSON_CreateArray());
        cJSON_AddItemToArray(list, f);
    }
    snapshot_files_free(files, n);
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
