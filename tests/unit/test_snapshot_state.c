/* Snapshot state in meta.db, the data file descriptor generated from it, batch plans. */
#include "testlib.h"

#include "core/fsutil.h"
#include "catalog/catalog_int.h" /* unit tests may look at the tables directly */
#include "core/util.h"
#include "snapshot/data_descriptor.h"
#include "catalog/snapshot_state.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The descriptor as written (caller frees with cJSON_Delete). */
static cJSON *read_descriptor(const char *dir)
{
    char *path = xasprintf("%s/%s", dir, DATA_DESCRIPTOR_PATH);
    char *txt = NULL;
    size_t len = 0;
    cJSON *d = fs_read_all(path, &txt, &len) ? cJSON_Parse(txt) : NULL;
    free(txt);
    free(path);
    return d;
}

TEST(snapshot_descriptor_lists_done_tables_only)
{
    char *dir = test_tmpdir();
    char *meta_dir = xasprintf("%s/metainfo", dir);
    mkdir(meta_dir, 0700);
    char *db = xasprintf("%s/meta.db", meta_dir);
    catalog *m = catalog_open(db);
    CHECK(m);

    CHECK(snapshot_export_table_ensure(m, "public", "Order", 10));
    CHECK(snapshot_export_table_ensure(m, "Sales", "t", 5));
    CHECK(snapshot_export_file_add(m, "public", "Order", 0, "data/Order_data.sql", 6, 60, "[\"id\", \"Name\"]"));
    CHECK(snapshot_export_file_add(m, "public", "Order", 1, "data/Order_data.part1.sql", 4, 40, "[\"id\", \"Name\"]"));
    CHECK(snapshot_export_file_add(m, "Sales", "t", 0, "data/Sales.t_data.sql", 5, 50, "[]"));
    CHECK(snapshot_export_table_set(m, "public", "Order", SNAP_DONE, 10));
    CHECK(snapshot_export_table_set(m, "Sales", "t", SNAP_EXPORTING, 3));
    CHECK(data_descriptor_write(m, dir));

    cJSON *d = read_descriptor(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(d, "DataFileList");
    CHECK_INT_EQ(cJSON_GetArraySize(list), 2);
    const cJSON *f0 = cJSON_GetArrayItem(list, 0), *f1 = cJSON_GetArrayItem(list, 1);
    CHECK_STR_EQ(cJSON_GetObjectItem(f0, "TableName")->valuestring, "Order");
    CHECK_STR_EQ(cJSON_GetObjectItem(f1, "FilePath")->valuestring, "data/Order_data.part1.sql");
    CHECK_INT_EQ(cJSON_GetObjectItem(f1, "Part")->valueint, 1);
    CHECK_INT_EQ(cJSON_GetObjectItem(f0, "RowCount")->valueint + cJSON_GetObjectItem(f1, "RowCount")->valueint, 10);
    CHECK_INT_EQ(cJSON_GetObjectItem(f1, "FileSize")->valueint, 40);
    char *cols = cJSON_PrintUnformatted(cJSON_GetObjectItem(f0, "Columns"));
    CHECK_STR_EQ(cols, "[\"id\",\"Name\"]");
    free(cols);
    cJSON_Delete(d);

    char *st = snapshot_export_table_status(m, "Sales", "t");
    CHECK_STR_EQ(st, SNAP_EXPORTING);
    free(st);
    st = snapshot_export_table_status(m, "Sales", "nope");
    CHECK_STR_EQ(st, "");
    free(st);

    CHECK(snapshot_export_reset(m));
    CHECK(data_descriptor_write(m, dir));
    d = read_descriptor(dir);
    CHECK_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, "DataFileList")), 0);
    cJSON_Delete(d);
    catalog_close(m);

    free(db);
    free(meta_dir);
    free(dir);
}

TEST(snapshot_batch_plan_is_fixed_per_importer)
{
    char *dir = test_tmpdir();
    char *db = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(db);
    CHECK(m);

    batch_range items[2] = {{1, 0, 100, 1, 10}, {2, 100, 150, 11, 5}};
    batch_plan p = {items, 2};
    CHECK(snapshot_import_plan_store(m, "target_db_importer", "public", "t", "data/t_data.sql", &p));
    batch_plan got;
    CHECK(snapshot_import_plan_load(m, "target_db_importer", "data/t_data.sql", &got));
    CHECK_INT_EQ(got.count, 2);
    CHECK_INT_EQ(got.items[1].start_offset, 100);
    CHECK_INT_EQ(got.items[1].first_line, 11);
    CHECK_INT_EQ(got.items[1].rows, 5);
    batch_plan_free(&got);
    CHECK(snapshot_import_plan_load(m, "source_replica_db_importer", "data/t_data.sql", &got));
    CHECK_INT_EQ(got.count, 0);
    batch_plan_free(&got);
    /* Plans are forgotten by table, also when the exporter has already forgotten the table's files. */
    CHECK(snapshot_import_reset_table(m, "target_db_importer", "public", "other"));
    CHECK(snapshot_import_plan_load(m, "target_db_importer", "data/t_data.sql", &got));
    CHECK_INT_EQ(got.count, 2);
    batch_plan_free(&got);
    CHECK(snapshot_import_reset_table(m, "target_db_importer", "public", "t"));
    CHECK(snapshot_import_plan_load(m, "target_db_importer", "data/t_data.sql", &got));
    CHECK_INT_EQ(got.count, 0);
    batch_plan_free(&got);
    catalog_close(m);
    free(db);
    free(dir);
}

TEST(snapshot_export_attempts_and_importer_attempts)
{
    char *dir = test_tmpdir();
    char *db = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(db);
    CHECK(m);

    CHECK(snapshot_export_table_ensure(m, "public", "t", 10));
    long long attempt = -1;
    CHECK(catalog_run(m, &attempt, "SELECT attempt FROM snapshot_export_table", ""));
    CHECK_INT_EQ(attempt, 0);
    CHECK(snapshot_export_table_restart(m, "public", "t"));
    CHECK(snapshot_export_file_add(m, "public", "t", 0, "data/t_data.sql", 6, 60, "[]"));
    CHECK(snapshot_export_table_set(m, "public", "t", SNAP_EXPORTING, 6));
    CHECK(snapshot_export_table_restart(m, "public", "t"));
    long long files = -1;
    CHECK(catalog_run(m, &attempt, "SELECT attempt FROM snapshot_export_table", ""));
    CHECK(catalog_run(m, &files, "SELECT count(*) FROM snapshot_export_file", ""));
    CHECK_INT_EQ(attempt, 2);
    CHECK_INT_EQ(files, 0);
    char *st = snapshot_export_table_status(m, "public", "t");
    CHECK_STR_EQ(st, SNAP_NOT_STARTED);
    free(st);

    CHECK_INT_EQ(snapshot_import_attempt_get(m, "target_db_importer", "public", "t"), 0);
    CHECK(snapshot_import_attempt_set(m, "target_db_importer", "public", "t", 2));
    /* Progress updates keep the attempt. */
    CHECK(snapshot_import_table_set(m, "target_db_importer", "public", "t", SNAP_IMPORTING, 3, 6));
    CHECK_INT_EQ(snapshot_import_attempt_get(m, "target_db_importer", "public", "t"), 2);
    CHECK_INT_EQ(snapshot_import_attempt_get(m, "source_replica_db_importer", "public", "t"), 0);
    CHECK(snapshot_import_reset_table(m, "target_db_importer", "public", "t"));
    CHECK_INT_EQ(snapshot_import_attempt_get(m, "target_db_importer", "public", "t"), 0);
    catalog_close(m);
    free(db);
    free(dir);
}

TEST(catalog_brings_an_older_store_up_to_date)
{
    char *dir = test_tmpdir();
    char *db = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(db);
    CHECK(m);
    /* what a build before catalog versions left: the table without its later column */
    CHECK(catalog_exec(m, "DROP TABLE snapshot_export_table;"
                         "CREATE TABLE snapshot_export_table (schema_name TEXT NOT NULL, table_name TEXT "
                         "NOT NULL, status TEXT NOT NULL DEFAULT 'NOT_STARTED', exported_rows INTEGER NOT "
                         "NULL DEFAULT 0, estimated_rows INTEGER NOT NULL DEFAULT 0, PRIMARY KEY "
                         "(schema_name, table_name));"
                         "INSERT INTO snapshot_export_table(schema_name, table_name) VALUES ('public', 't');"
                         "PRAGMA user_version = 0"));
    catalog_close(m);
    m = catalog_open(db);
    CHECK(m);
    CHECK(snapshot_export_table_restart(m, "public", "t"));
    long long attempt = -1, version = -1;
    CHECK(catalog_run(m, &attempt, "SELECT attempt FROM snapshot_export_table", ""));
    CHECK_INT_EQ(attempt, 1);
    CHECK(catalog_run(m, &version, "PRAGMA user_version", ""));
    CHECK(version > 0);
    catalog_close(m);
    /* a store from a newer build is refused, not written */
    m = catalog_open(db);
    CHECK(catalog_exec(m, "PRAGMA user_version = 9999"));
    catalog_close(m);
    CHECK(catalog_open(db) == NULL);
    free(db);
    free(dir);
}
