/*
 * The single-row readers of meta.db written on catalog_load_row (import_state,
 * queue_meta) and compare data's table list: found / not found, NULL columns,
 * and each statement finished before the caller writes.
 */
#include "testlib.h"

#include "catalog/catalog_int.h"
#include "catalog/compare_state.h"
#include "catalog/import_state.h"
#include "catalog/queue_meta.h"
#include "catalog/snapshot_state.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static catalog *fresh_catalog(void)
{
    char *dir = test_tmpdir();
    char *p = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(p);
    free(p);
    free(dir);
    return m;
}

/*
 * An importer run again after its cutover records what an earlier run applied
 * but did not mark: the segments of the exporters it reads, up to the last
 * segment of the one that ends it, and nothing of the others.
 */
TEST(catalog_import_state_mark_through_end)
{
    catalog *m = fresh_catalog();
    CHECK(m != NULL);
    /* 0-1 source (1 last), 2 fall-forward, 3 fall-forward (last), 4 fall-back */
    const char *roles[] = {"source_db_exporter", "source_db_exporter", "target_db_exporter_ff",
                           "target_db_exporter_ff", "target_db_exporter_fb"};
    for (long long no = 0; no < 5; no++)
        CHECK(catalog_run(m, NULL,
                          "INSERT INTO queue_segment (segment_no, file_path, exporter_role, is_closed,"
                          " is_last) VALUES (?1, 'x', ?2, 1, ?3)",
                          "isi", no, roles[no], (long long)(no == 1 || no == 3)));
    const char *tgt[] = {"source_db_exporter", NULL};
    const char *sr[] = {"source_db_exporter", "target_db_exporter_ff", NULL};
    const char *src[] = {"target_db_exporter_fb", NULL};
    int64_t marked = -1;
    /* the fall-back stream has not ended yet: nothing of it is marked */
    CHECK(import_state_segments_mark_through_end(m, "source_db_importer", "target_db_exporter_fb",
                                                 src, &marked));
    CHECK_INT_EQ(marked, 0);
    CHECK(import_state_segment_mark_imported(m, "target_db_importer", 0));
    CHECK(import_state_segments_mark_through_end(m, "target_db_importer", "source_db_exporter", tgt,
                                                 &marked));
    CHECK_INT_EQ(marked, 1); /* segment 1; 0 was marked already */
    CHECK(import_state_segments_mark_through_end(m, "source_replica_db_importer",
                                                 "target_db_exporter_ff", sr, &marked));
    CHECK_INT_EQ(marked, 4);
    import_segment seg;
    for (int64_t no = 0; no < 5; no++) {
        CHECK(import_state_segment_load(m, "target_db_importer", no, &seg));
        CHECK(seg.imported == (no <= 1));
        import_segment_free(&seg);
        CHECK(import_state_segment_load(m, "source_replica_db_importer", no, &seg));
        CHECK(seg.imported == (no <= 3));
        import_segment_free(&seg);
        CHECK(import_state_segment_load(m, "source_db_importer", no, &seg));
        CHECK(!seg.imported);
        import_segment_free(&seg);
    }
    /* the fall-back stream ended: its segment, and only it, for the source importer */
    CHECK(catalog_run(m, NULL, "UPDATE queue_segment SET is_last = 1 WHERE segment_no = 4", ""));
    CHECK(import_state_segments_mark_through_end(m, "source_db_importer", "target_db_exporter_fb",
                                                 src, &marked));
    CHECK_INT_EQ(marked, 1);
    CHECK(import_state_segment_load(m, "target_db_importer", 4, &seg) && !seg.imported);
    import_segment_free(&seg);
    catalog_close(m);
}

TEST(catalog_import_state_readers)
{
    catalog *m = fresh_catalog();
    CHECK(m != NULL);
    import_segment seg;
    CHECK(import_state_segment_load(m, "target_db_importer", 0, &seg) && !seg.exists && !seg.path);
    CHECK(qm_segment_insert(m, 0, "data/queue/segment.0.ndjson", "source_db_exporter"));
    CHECK(qm_segment_insert(m, 1, "data/queue/segment.1.ndjson", "source_db_exporter"));
    CHECK(import_state_segment_mark_imported(m, "target_db_importer", 1));
    CHECK(import_state_segment_load(m, "target_db_importer", 1, &seg));
    CHECK(seg.exists && seg.imported && !seg.closed && !seg.gone && seg.archive_location == NULL);
    CHECK_STR_EQ(seg.path, "data/queue/segment.1.ndjson");
    CHECK_STR_EQ(seg.exporter_role, "source_db_exporter");
    import_segment_free(&seg);

    int64_t first = 0, last = 0;
    CHECK(import_state_deleted_unapplied(m, "source_db_exporter", "source_replica_db_importer", &first,
                                         &last));
    CHECK(first == -1 && last == -1); /* min/max of no rows: NULL */
    CHECK(catalog_exec(m, "UPDATE queue_segment SET deleted = 1"));
    CHECK(import_state_deleted_unapplied(m, "source_db_exporter", "source_replica_db_importer", &first,
                                         &last));
    CHECK(first == 0 && last == 1);
    CHECK(import_state_deleted_unapplied(m, "source_db_exporter", "target_db_importer", &first, &last));
    CHECK(first == 0 && last == 0); /* segment 1 was applied by the target */

    /* the first caller's group stays; the read is finished before the insert */
    char *g = import_state_route(m, "target_db_importer", "public", "t", "g1");
    CHECK_STR_EQ(g, "g1");
    free(g);
    g = import_state_route(m, "target_db_importer", "public", "t", "g2");
    CHECK_STR_EQ(g, "g1");
    free(g);
    int64_t n = 0;
    CHECK(import_state_routes_count(m, "target_db_importer", &n) && n == 1);

    char *inc = NULL, *exc = NULL;
    CHECK(import_state_table_filter_get(m, "target_db_importer", &inc, &exc) && !inc && !exc);
    CHECK(import_state_table_filter_set(m, "target_db_importer", "public.t", ""));
    CHECK(import_state_table_filter_get(m, "target_db_importer", &inc, &exc));
    CHECK_STR_EQ(inc, "public.t");
    CHECK_STR_EQ(exc, "");
    free(inc);
    free(exc);
    catalog_close(m);
}

TEST(catalog_queue_meta_point_and_hold_readers)
{
    catalog *m = fresh_catalog();
    CHECK(m != NULL);
    bool asked = true;
    long long lsn = 0, vsn = 0;
    char *snap = NULL, *state = NULL;
    CHECK(qm_point_asked(m, &asked, &lsn, &snap) && !asked && snap == NULL);
    CHECK(qm_point_state(m, &state, &vsn) && state == NULL);
    CHECK(qm_point_ask(m, 42, "00000003-1"));
    CHECK(qm_point_asked(m, &asked, &lsn, &snap) && asked && lsn == 42);
    CHECK_STR_EQ(snap, "00000003-1");
    free(snap);
    CHECK(qm_point_answer(m, "answered", 7));
    CHECK(qm_point_asked(m, &asked, &lsn, &snap) && !asked && snap == NULL);
    CHECK(qm_point_state(m, &state, &vsn) && vsn == 7);
    CHECK_STR_EQ(state, "answered");
    free(state);

    long long pid = 0, hold = 0, held = 0;
    CHECK(!qm_hold_get(m, "target_db_importer", &pid, &hold, &held));
    CHECK(qm_hold_request(m, "target_db_importer", 99) && qm_hold_set_held(m, "target_db_importer", 5));
    CHECK(qm_hold_get(m, "target_db_importer", &pid, &hold, &held));
    CHECK(pid == 99 && hold == -1 && held == 5);
    catalog_close(m);
}

TEST(catalog_compare_state_lists_the_exported_tables_in_order)
{
    catalog *m = fresh_catalog();
    CHECK(m != NULL);
    CHECK(snapshot_export_table_ensure(m, "sales", "b", 0) && snapshot_export_table_ensure(m, "public", "z", 0) &&
          snapshot_export_table_ensure(m, "sales", "a", 0));
    strlist schemas = STRLIST_INIT, names = STRLIST_INIT;
    CHECK(compare_state_migrated_tables(m, &schemas, &names));
    CHECK(schemas.count == 3 && names.count == 3);
    CHECK_STR_EQ(schemas.items[0], "public");
    CHECK_STR_EQ(names.items[0], "z");
    CHECK_STR_EQ(names.items[1], "a");
    CHECK_STR_EQ(names.items[2], "b");
    strlist_free(&schemas);
    strlist_free(&names);
    catalog_close(m);
}
