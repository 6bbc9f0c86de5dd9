#include "testlib.h"

#include "migration/report.h"

#include <stdlib.h>

TEST(report_table_aligns_and_marks_na)
{
    report r = {0};
    report_row *a = report_add(&r, "public", "orders", "source");
    a->snapshot_rows = 1000;
    a->exported_inserts = 5;
    a->final_row_count = 1005;
    report_row *b = report_add(&r, "Sales", "Mixed\"Case", "target");
    b->imported_snapshot_rows = 1000;
    CHECK(report_find(&r, "public", "orders", "source") == a);
    CHECK(report_find(&r, "public", "orders", "target") == NULL);
    char *t = report_render_table(&r);
    CHECK(strstr(t, "TABLE NAME") == t);
    CHECK(strstr(t, "orders") != NULL);
    CHECK(strstr(t, "Sales.Mixed\"Case") != NULL); /* non-public tables are qualified */
    CHECK(strstr(t, " 1005") != NULL);
    /* Every line has the same width. */
    size_t first = strcspn(t, "\n");
    for (const char *p = t; *p;) {
        size_t len = strcspn(p, "\n");
        CHECK_INT_EQ(len, first);
        p += len + (p[len] == '\n');
    }
    free(t);
    cJSON *j = report_render_json(&r);
    CHECK_INT_EQ(cJSON_GetArraySize(j), 2);
    cJSON *o = cJSON_GetArrayItem(j, 0);
    CHECK_INT_EQ(cJSON_GetObjectItem(o, "snapshot_row_count")->valuedouble, 1000);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "imported_snapshot_rows")));
    CHECK_STR_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1), "db_type")->valuestring, "target");
    cJSON_Delete(j);
    report_free(&r);
}
