/* Outputs shaped as upstream's: the import metrics grid, schema-qualified report names. */
#include "testlib.h"

#include "cdc/import_metrics.h"
#include "snapshot/table_list.h"

#include <stdlib.h>
#include <string.h>

TEST(import_metrics_grid_as_documented)
{
    char *g = import_metrics_grid("Total Imported events: 272572\nRemaining Events: 5\n");
    CHECK(strstr(g, "| -----------------------------") == g);
    CHECK(strstr(g, "| Metric                         |                          Value |\n") != NULL);
    CHECK(strstr(g, "| Total Imported events          |                         272572 |\n") != NULL);
    CHECK(strstr(g, "| Remaining Events               |                              5 |\n") != NULL);
    /* every line has the same width */
    size_t w = strcspn(g, "\n");
    for (const char *l = g; *l; l = strchr(l, '\n') + 1)
        CHECK_INT_EQ((long long)strcspn(l, "\n"), (long long)w);
    free(g);

    import_metrics *m = import_metrics_new(false, 10);
    import_metrics_update(m, 5, 20, false);
    char *plain = import_metrics_render(m);
    g = import_metrics_grid(plain);
    CHECK(strstr(g, "| Total Imported events ") != NULL);
    CHECK(strstr(g, "| Estimated Time to catch up ") != NULL);
    free(g);
    free(plain);
    import_metrics_free(m);
}

TEST(export_metrics_grid_as_documented)
{
    char *g = metrics_grid("Total Exported Events: 123456\nExport Rate(Last 3 min): 22133/sec\n", 39);
    CHECK(strstr(g, "| ---------------------------------------  |  ----------------------------- |\n") == g);
    CHECK(strstr(g, "| Total Exported Events                    |                         123456 |\n") != NULL);
    CHECK(strstr(g, "| Export Rate(Last 3 min)                  |                      22133/sec |\n") != NULL);
    free(g);
}

TEST(table_qualified_name_quotes_only_where_needed)
{
    char *s = table_qualified_name("public", "customers");
    CHECK_STR_EQ(s, "public.customers");
    free(s);
    s = table_qualified_name("public", "Order");
    CHECK_STR_EQ(s, "public.\"Order\"");
    free(s);
    s = table_qualified_name("Sales", "a\"b c");
    CHECK_STR_EQ(s, "\"Sales\".\"a\"\"b c\"");
    free(s);
}
