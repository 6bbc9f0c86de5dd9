#include "testlib.h"

#include "catalog/catalog_int.h"
#include "catalog/migration_state.h"
#include "catalog/schema_state.h"
#include "core/util.h"

#include <stdlib.h>

TEST(sequence_values_round_trip_by_phase)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    sequence_value v[] = {{"s", "b_seq", 42, true}, {"public", "a_seq", 1, false}};
    CHECK(sequence_values_save(m, "snapshot", v, 2));
    v[0].last_value = 50;
    CHECK(sequence_values_save(m, "cutover.target", v, 1));
    sequence_value *got = NULL;
    size_t n = 0;
    CHECK(sequence_values_load(m, "snapshot", &got, &n));
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(got[0].schema, "public"); /* ordered by schema and name */
    CHECK_INT_EQ(got[1].last_value, 42);
    CHECK(got[1].is_called && !got[0].is_called);
    sequence_values_free(got, n);
    CHECK(sequence_values_load(m, "nothing", &got, &n));
    CHECK_INT_EQ(n, 0);
    sequence_values_free(got, n);
    /* no statement left open: a write goes through at once */
    CHECK(catalog_status_set_bool(m, "After", true));
    catalog_close(m);
    free(path);
    free(dir);
}

TEST(queue_segment_states_and_the_guard_check)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    for (long long no = 0; no < 2; no++)
        CHECK(catalog_run(m, NULL,
                          "INSERT INTO queue_segment (segment_no, file_path, exporter_role, is_closed)"
                          " VALUES (?1, 'data/queue/x', 'source_db_exporter', ?2)",
                          "ii", no, no == 0 ? 1LL : 0LL));
    queue_segment_state *s = NULL;
    size_t n = 0;
    CHECK(queue_segment_states_load(m, &s, &n));
    CHECK_INT_EQ(n, 2);
    CHECK(s[0].closed && !s[1].closed);
    CHECK_STR_EQ(s[1].exporter_role, "source_db_exporter");
    queue_segment_states_free(s, n);

    long long segs[] = {0, 1, 7}, missing = -1;
    char *detail = NULL;
    CHECK_INT_EQ(catalog_check_records(path, segs, 2, false, &missing, &detail), CATALOG_RECORDS_OK);
    CHECK_INT_EQ(catalog_check_records(path, segs, 3, false, &missing, &detail),
                 CATALOG_RECORDS_NO_SEGMENT);
    CHECK_INT_EQ(missing, 7);
    CHECK_INT_EQ(catalog_check_records(path, segs, 0, true, &missing, &detail),
                 CATALOG_RECORDS_NO_TABLES);
    CHECK(detail == NULL);
    char *none = xasprintf("%s/none.db", dir);
    CHECK_INT_EQ(catalog_check_records(none, segs, 1, false, &missing, &detail),
                 CATALOG_RECORDS_CANNOT_OPEN);
    CHECK(detail != NULL);
    free(detail);
    free(none);
    catalog_close(m);
    free(path);
    free(dir);
}

TEST(schema_progress_and_postponed)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    schema_stmt_key k = {"h:5432/db", "table/table.sql", "0123456789abcdef", 0};
    char state[16];
    schema_progress_get(m, &k, state);
    CHECK_STR_EQ(state, "");
    CHECK(schema_progress_set(m, &k, 3, "done", NULL));
    schema_progress_get(m, &k, state);
    CHECK_STR_EQ(state, "done");
    CHECK(!schema_postponed_has(m, &k));
    CHECK(schema_postponed_add(m, &k));
    CHECK(schema_postponed_has(m, &k));
    const char *files[] = {"index/index.sql"};
    /* the post-data run forgets the progress of what was postponed, whatever its file */
    CHECK(schema_progress_forget(m, k.target, files, 1, true));
    schema_progress_get(m, &k, state);
    CHECK_STR_EQ(state, "");
    CHECK(schema_postponed_has(m, &k));
    files[0] = k.file;
    CHECK(schema_progress_forget(m, k.target, files, 1, false));
    CHECK(!schema_postponed_has(m, &k));
    catalog_close(m);
    free(path);
    free(dir);
}
