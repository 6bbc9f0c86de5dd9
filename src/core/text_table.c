#include "core/text_table.h"

#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static void append_cell(strbuf *sb, const text_table_style *st, size_t c, size_t ncols,
                        size_t width, const char *text)
{
    bool last = c + 1 == ncols;
    if (c)
        strbuf_append(sb, st->sep);
    int w = last && !st->pad_last ? 0 : (int)width;
    strbuf_appendf(sb, "%*s", c >= st->right_from ? w : -w, text);
}

char *text_table_render(const text_table_style *st, const char *const *headers, size_t ncols,
                        const char *const *cells, size_t nrows)
{
    size_t *width = xcalloc(ncols ? ncols : 1, sizeof *width);
    for (size_t c = 0; c < ncols; c++) {
        width[c] = strlen(headers[c]);
        for (size_t r = 0; r < nrows; r++)
            if (strlen(cells[r * ncols + c]) > width[c])
                width[c] = strlen(cells[r * ncols + c]);
    }
    strbuf sb = STRBUF_INIT;
    /* headers are left-aligned whatever their column holds */
    text_table_style head = *st;
    head.right_from = (size_t)-1;
    for (size_t c = 0; c < ncols; c++)
        append_cell(&sb, &head, c, ncols, width[c], headers[c]);
    strbuf_append_char(&sb, '\n');
    for (size_t c = 0; c < ncols; c++) {
        if (c)
            strbuf_append(&sb, st->rule_sep);
        for (size_t k = 0; k < width[c]; k++)
            strbuf_append_char(&sb, '-');
    }
    strbuf_append_char(&sb, '\n');
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++)
            append_cell(&sb, st, c, ncols, width[c], cells[r * ncols + c]);
        strbuf_append_char(&sb, '\n');
    }
    free(width);
    return strbuf_detach(&sb);
}
