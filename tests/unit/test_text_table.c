#include "testlib.h"

#include "core/text_table.h"

#include <stdlib.h>

/* The status commands' grid: two spaces apart, the last column unpadded. */
TEST(text_table_grid_style)
{
    static const text_table_style grid = {"  ", "  ", false, (size_t)-1};
    const char *headers[] = {"TABLE", "STATUS", "ROWS"};
    const char *cells[] = {"public.orders", "DONE", "1000", "t", "EXPORTING", "7"};
    char *t = text_table_render(&grid, headers, 3, cells, 2);
    CHECK_STR_EQ(t, "TABLE          STATUS     ROWS\n"
                    "-------------  ---------  ----\n"
                    "public.orders  DONE       1000\n"
                    "t              EXPORTING  7\n");
    free(t);
}

/* The data-migration report: every line as wide, numbers right-aligned. */
TEST(text_table_report_style)
{
    static const text_table_style report = {" | ", "-+-", true, 1};
    const char *headers[] = {"NAME", "N"};
    const char *cells[] = {"a", "12", "bbbbbb", "-"};
    char *t = text_table_render(&report, headers, 2, cells, 2);
    CHECK_STR_EQ(t, "NAME   | N \n"
                    "-------+---\n"
                    "a      | 12\n"
                    "bbbbbb |  -\n");
    free(t);
}

TEST(text_table_no_rows)
{
    static const text_table_style grid = {"  ", "  ", false, (size_t)-1};
    const char *headers[] = {"A", "BB"};
    char *t = text_table_render(&grid, headers, 2, NULL, 0);
    CHECK_STR_EQ(t, "A  BB\n-  --\n");
    free(t);
}
