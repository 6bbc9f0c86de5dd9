#include "testlib.h"

#include "catalog/catalog_int.h"
#include "cdc/queue_format.h"
#include "core/util.h"
#include "migration/archive.h"

#include <stdlib.h>

TEST(archive_eligibility_by_exporter_and_importers)
{
    archive_segment s = {.exporter_role = "source_db_exporter", .closed = true, .imported_by_target = true};
    CHECK(archive_segment_eligible(&s, false));
    CHECK(!archive_segment_eligible(&s, true)); /* fall-forward: the replica needs it too */
    s.imported_by_source_replica = true;
    CHECK(archive_segment_eligible(&s, true));
    s.closed = false;
    CHECK(!archive_segment_eligible(&s, true)); /* still being written */

    archive_segment fb = {.exporter_role = "target_db_exporter_fb", .closed = true, .imported_by_target = true};
    CHECK(!archive_segment_eligible(&fb, false));
    fb.imported_by_source = true;
    CHECK(archive_segment_eligible(&fb, false));

    archive_segment ff = {.exporter_role = "target_db_exporter_ff", .closed = true, .imported_by_source = true};
    CHECK(!archive_segment_eligible(&ff, true));
    ff.imported_by_source_replica = true;
    CHECK(archive_segment_eligible(&ff, true));

    archive_segment unknown = {.exporter_role = "someone_else", .closed = true, .imported_by_target = true,
                               .imported_by_source = true, .imported_by_source_replica = true};
    CHECK(!archive_segment_eligible(&unknown, false));
}

TEST(archive_fs_utilization_is_a_percentage)
{
    int pct = archive_fs_utilization("/tmp");
    CHECK(pct >= 0 && pct <= 100);
    CHECK_INT_EQ(archive_fs_utilization("/no/such/path/here"), -1);
}

/*
 * The pass picked a segment while no source-replica was registered; one
 * registers before the segment is marked: the mark must not go through.
 */
TEST(archive_mark_keeps_what_a_source_replica_registered_meanwhile_needs)
{
    char *dir = test_tmpdir();
    char *path = xasprintf("%s/meta.db", dir);
    catalog *m = catalog_open(path);
    CHECK(m != NULL);
    for (long long no = 0; no < 3; no++)
        CHECK(catalog_run(m, NULL,
                         "INSERT INTO queue_segment (segment_no, file_path, exporter_role, is_closed,"
                         " imported_by_target_db_importer, imported_by_source_replica_db_importer,"
                         " imported_by_source_db_importer)"
                         " VALUES (?1, 'data/queue/x', ?2, 1, 1, ?3, 1)",
                         "isi", no, no == 2 ? "target_db_exporter_fb" : "source_db_exporter",
                         no == 1 ? 1LL : 0LL));
    bool kept = true;
    /* no source-replica: a source segment the target applied may go */
    CHECK(archive_mark_segment(m, 0, "deleted", NULL, &kept));
    CHECK(!kept);
    long long v = -1;
    CHECK(catalog_run(m, &v, "SELECT deleted FROM queue_segment WHERE segment_no = 0", ""));
    CHECK_INT_EQ(v, 1);
    CHECK(catalog_run(m, NULL, "UPDATE queue_segment SET deleted = 0 WHERE segment_no = 0", ""));

    CHECK(catalog_status_set_bool(m, "FallForwardEnabled", true)); /* registered meanwhile */
    CHECK(archive_mark_segment(m, 0, "deleted", NULL, &kept));
    CHECK(kept);
    CHECK(catalog_run(m, &v, "SELECT deleted + archived FROM queue_segment WHERE segment_no = 0", ""));
    CHECK_INT_EQ(v, 0);
    CHECK(archive_mark_segment(m, 0, "archived", "/elsewhere/x", &kept));
    CHECK(kept);
    CHECK(catalog_run(m, &v, "SELECT deleted + archived FROM queue_segment WHERE segment_no = 0", ""));
    CHECK_INT_EQ(v, 0);
    /* the target importer started over meanwhile (--start-clean forgot what it applied) */
    CHECK(catalog_run(m, NULL, "UPDATE queue_segment SET imported_by_target_db_importer = 0 "
                               "WHERE segment_no = 1", ""));
    CHECK(archive_mark_segment(m, 1, "deleted", NULL, &kept));
    CHECK(kept);
    CHECK(catalog_run(m, NULL, "UPDATE queue_segment SET imported_by_target_db_importer = 1 "
                               "WHERE segment_no = 1", ""));
    /* what the source-replica applied, and other exporters' applied segments, still go */
    CHECK(archive_mark_segment(m, 1, "deleted", NULL, &kept));
    CHECK(!kept);
    CHECK(archive_mark_segment(m, 2, "archived", "/elsewhere/2", &kept));
    CHECK(!kept);
    CHECK(catalog_run(m, &v, "SELECT count(*) FROM queue_segment WHERE deleted + archived = 1", ""));
    CHECK_INT_EQ(v, 2);
    /* the write lock is free again: a kept segment rolled its transaction back */
    CHECK(catalog_status_set_bool(m, "After", true));
    catalog_close(m);
    free(path);
    free(dir);
}
