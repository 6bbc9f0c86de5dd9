#include "testlib.h"

#include "migration/archive.h"

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
